// The pages' test ids: part of every example app's contract (the TanStack Start app and the Analog app
// render the same ones), so one browser suite drives both.
export const T = {
  // /sign-up, /sign-in
  authName: 'auth-name',
  authEmail: 'auth-email',
  authPassword: 'auth-password',
  authSubmit: 'auth-submit',
  // / (organization picker)
  orgName: 'org-name',
  orgCreate: 'org-create',
  orgLink: 'org-link', // with data-org-id
  // /t/<orgId>
  orgTitle: 'org-title',
  liveStatus: 'live-status', // data-state: connecting | live | reconnecting | revoked | signed-out
  docCount: 'doc-count', // the number of documents shown (Analog: from the service's Observable)
  doc: 'doc', // with data-doc-id
  docTitle: 'doc-title',
  docRename: 'doc-rename',
  docSave: 'doc-save',
  docDelete: 'doc-delete',
  newTitle: 'new-title',
  newBody: 'new-body',
  newSubmit: 'new-submit',
  formError: 'form-error', // with data-code
  pageError: 'page-error', // with data-code
};

/** `[data-testid="…"]`. */
export const id = (testId) => `[data-testid="${testId}"]`;
