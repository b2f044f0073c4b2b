// The pages' style sheet, one for both example apps (inlined into each page's <head>).
export const STYLE = `
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 48rem; padding: 1rem; color: #1f2328; }
  header { display: flex; gap: 1rem; align-items: baseline; border-bottom: 1px solid #d0d7de; margin-bottom: 1rem; }
  form { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
  input, textarea, button { font: inherit; padding: .25rem .5rem; }
  ul { list-style: none; padding: 0; }
  li { border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem .75rem; margin: .5rem 0; }
  .problem { color: #cf222e; }
  .muted { color: #656d76; }
`;
