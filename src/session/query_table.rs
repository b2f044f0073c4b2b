//! Which table a subscription query returns rows of.
//!
//! The server's reply to a subscription lists only tables that had matching rows, so a query that
//! matches nothing yet would leave its table "unsubscribed" in our bookkeeping. SpacetimeDB's
//! subscription SQL is narrow (`SELECT * FROM t [WHERE …]`, or `SELECT t.* FROM t JOIN u …`), so the
//! answer can be read off the query text. Anything we cannot read falls back to the server's reply.

/// The table whose rows `query` returns, or `None` if the query is not of a form we recognise.
pub fn query_table(query: &str) -> Option<String> {
    let tokens = tokenize(query)?;
    let mut i = 0;
    let next_is = |i: usize, word: &str| tokens.get(i).is_some_and(|t| t.is_keyword(word));
    if !next_is(i, "select") {
        return None;
    }
    i += 1;
    // The projection: `*` or `<name>.*`.
    let projected = match (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2)) {
        (Some(Token::Star), ..) => {
            i += 1;
            None
        }
        (Some(Token::Ident(name)), Some(Token::Dot), Some(Token::Star)) => {
            i += 3;
            Some(name.clone())
        }
        _ => return None,
    };
    if !next_is(i, "from") {
        return None;
    }
    i += 1;
    // `FROM t [AS] [alias] (JOIN u [AS] [alias] ON …)*`: collect (table, alias) pairs.
    let mut sources: Vec<(String, Option<String>)> = Vec::new();
    loop {
        let Some(Token::Ident(table)) = tokens.get(i) else { return None };
        i += 1;
        if next_is(i, "as") {
            i += 1;
        }
        let alias = match tokens.get(i) {
            Some(Token::Ident(a)) if !is_clause_keyword(a) => {
                i += 1;
                Some(a.clone())
            }
            _ => None,
        };
        sources.push((table.clone(), alias));
        // Skip to the next JOIN, if any.
        while let Some(t) = tokens.get(i) {
            if t.is_keyword("join") {
                break;
            }
            i += 1;
        }
        if tokens.get(i).is_none() {
            break;
        }
        i += 1;
    }
    match projected {
        None => sources.first().map(|(t, _)| t.clone()),
        Some(name) => {
            sources.iter().find(|(t, alias)| alias.as_deref().map_or(t == &name, |a| a == name)).map(|(t, _)| t.clone())
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    Star,
    Dot,
    Other,
}

impl Token {
    fn is_keyword(&self, word: &str) -> bool {
        matches!(self, Token::Ident(s) if s.eq_ignore_ascii_case(word))
    }
}

fn is_clause_keyword(word: &str) -> bool {
    ["where", "join", "inner", "on", "left", "right", "cross"].iter().any(|k| word.eq_ignore_ascii_case(k))
}

/// Splits SQL into identifiers (bare or `"quoted"`), `*`, `.`, and everything else; string literals are
/// skipped whole so their contents never look like keywords.
fn tokenize(sql: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '*' => tokens.push(Token::Star),
            '.' => tokens.push(Token::Dot),
            '\'' => {
                // 'it''s' — a doubled quote is an escaped quote.
                loop {
                    match chars.next()? {
                        '\'' if chars.peek() == Some(&'\'') => {
                            chars.next();
                        }
                        '\'' => break,
                        _ => {}
                    }
                }
                tokens.push(Token::Other);
            }
            '"' => {
                let mut name = String::new();
                loop {
                    match chars.next()? {
                        '"' if chars.peek() == Some(&'"') => {
                            chars.next();
                            name.push('"');
                        }
                        '"' => break,
                        ch => name.push(ch),
                    }
                }
                tokens.push(Token::Ident(name));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_alphanumeric() || n == '_' {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Ident(word));
            }
            _ => tokens.push(Token::Other),
        }
    }
    Some(tokens)
}

#[cfg(test)]
mod tests {
    use super::query_table;

    #[test]
    fn reads_the_table_of_subscription_queries() {
        for (sql, table) in [
            ("SELECT * FROM document", Some("document")),
            ("select * from document where tenant_id = 'a from b'", Some("document")),
            ("SELECT * FROM \"Weird Name\" WHERE x = 1", Some("Weird Name")),
            ("SELECT d.* FROM document d JOIN membership m ON d.tenant_id = m.tenant_id", Some("document")),
            (
                "SELECT m.* FROM document AS d JOIN membership AS m ON d.tenant_id = m.tenant_id WHERE m.role = 'x'",
                Some("membership"),
            ),
            (
                "SELECT membership.* FROM document JOIN membership ON document.tenant_id = membership.tenant_id",
                Some("membership"),
            ),
            ("SELECT * FROM t WHERE s = 'it''s'", Some("t")),
            ("SELECT id FROM t", None),
            ("DELETE FROM t", None),
            ("SELECT * FROM t WHERE s = 'unterminated", None),
            ("", None),
        ] {
            assert_eq!(query_table(sql).as_deref(), table, "{sql}");
        }
    }
}
