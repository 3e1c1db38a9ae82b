//! Lua 5.1's wording of a statement that is only an expression (`this is not
//! lua`). piccolo reports "expression is not a statement" with a line; Lua 5.1
//! reports `'=' expected near '<token>'`, naming the token after the
//! expression, since it reads such a statement as the start of an assignment.
//! That token is found again by lexing the line with piccolo's lexer.

use piccolo::compiler::interning::BasicInterner;
use piccolo::compiler::lexer::{Lexer, Token};
use std::rc::Rc;

type Tok = Token<Rc<[u8]>>;

/// Lua 5.1's message for the expression statement on `line` (0-based) of
/// `code`, if it can be found.
pub(crate) fn expression_statement(code: &[u8], line: u64) -> Option<String> {
    let tokens = tokens_on(code, line)?;
    let (line_tokens, before) = tokens;
    let mut start = 0;
    while start < line_tokens.len() {
        let prev = if start == 0 { before.as_ref() } else { Some(&line_tokens[start - 1]) };
        if !matches!(line_tokens[start], Token::Name(_) | Token::LeftParen) || !ends_statement(prev) {
            start += 1;
            continue;
        }
        let (end, last_is_call) = skip_suffixed(&line_tokens, start)?;
        if last_is_call {
            // A call statement: the next statement starts after it.
            start = end;
            continue;
        }
        start += 1;
        match line_tokens.get(end) {
            Some(Token::Assign) | Some(Token::Comma) => continue,
            Some(t) => return Some(format!("'=' expected near '{}'", show(t))),
            None => return Some("'=' expected near '<eof>'".to_string()),
        }
    }
    None
}

/// The tokens of `line`, and the token before the line (if any).
fn tokens_on(code: &[u8], line: u64) -> Option<(Vec<Tok>, Option<Tok>)> {
    let mut lexer = Lexer::new(code, BasicInterner::default());
    let (mut on_line, mut before) = (Vec::new(), None);
    loop {
        lexer.skip_whitespace().ok()?;
        let at = lexer.line_number().0;
        let Some(tok) = lexer.read_token().ok()? else { break };
        if at < line {
            before = Some(tok);
        } else if at == line {
            on_line.push(tok);
        } else {
            break;
        }
    }
    Some((on_line, before))
}

/// True if a statement may start after `prev` (not inside an expression).
fn ends_statement(prev: Option<&Tok>) -> bool {
    match prev {
        None => true,
        Some(t) => matches!(
            t,
            Token::SemiColon
                | Token::End
                | Token::Do
                | Token::Then
                | Token::Else
                | Token::Repeat
                | Token::RightParen
                | Token::RightBracket
                | Token::RightBrace
                | Token::Name(_)
                | Token::String(_)
                | Token::Integer(_)
                | Token::Float(_)
                | Token::True
                | Token::False
                | Token::Nil
                | Token::Break
        ),
    }
}

/// Skips the suffixed expression at `start`: the index after it, and whether
/// its last part is a call.
fn skip_suffixed(t: &[Tok], start: usize) -> Option<(usize, bool)> {
    let mut i = match t[start] {
        Token::Name(_) => start + 1,
        _ => matching(t, start)? + 1,
    };
    let mut call = false;
    loop {
        match t.get(i) {
            Some(Token::Dot) => (i, call) = (i + 2, false),
            Some(Token::LeftBracket) => (i, call) = (matching(t, i)? + 1, false),
            Some(Token::Colon) => {
                i += 2;
                match t.get(i) {
                    Some(Token::LeftParen | Token::LeftBrace) => i = matching(t, i)? + 1,
                    Some(Token::String(_)) => i += 1,
                    _ => return None,
                }
                call = true;
            }
            Some(Token::LeftParen | Token::LeftBrace) => (i, call) = (matching(t, i)? + 1, true),
            Some(Token::String(_)) => (i, call) = (i + 1, true),
            _ => return Some((i, call)),
        }
    }
}

/// The index of the bracket closing the one at `open`, on the same line.
fn matching(t: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, tok) in t.iter().enumerate().skip(open) {
        match tok {
            Token::LeftParen | Token::LeftBracket | Token::LeftBrace => depth += 1,
            Token::RightParen | Token::RightBracket | Token::RightBrace => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Lua's text of each token piccolo names by its variant (`Comma`).
const TOKEN_TEXT: &[(&str, &str)] = &[
    ("Minus", "-"),
    ("Add", "+"),
    ("Mul", "*"),
    ("Div", "/"),
    ("IDiv", "//"),
    ("Pow", "^"),
    ("Mod", "%"),
    ("Len", "#"),
    ("BitNotXor", "~"),
    ("BitAnd", "&"),
    ("BitOr", "|"),
    ("ShiftRight", ">>"),
    ("ShiftLeft", "<<"),
    ("Concat", ".."),
    ("Dots", "..."),
    ("Assign", "="),
    ("LessThan", "<"),
    ("LessEqual", "<="),
    ("GreaterThan", ">"),
    ("GreaterEqual", ">="),
    ("Equal", "=="),
    ("NotEqual", "~="),
    ("Dot", "."),
    ("SemiColon", ";"),
    ("Colon", ":"),
    ("DoubleColon", "::"),
    ("Comma", ","),
    ("LeftParen", "("),
    ("RightParen", ")"),
    ("LeftBracket", "["),
    ("RightBracket", "]"),
    ("LeftBrace", "{"),
    ("RightBrace", "}"),
];

/// A token in piccolo's debug form (`Name("is")`, `RightParen`, `End`) as Lua
/// 5.1 writes it in messages (`is`, `)`, `end`).
pub(crate) fn debug_token_text(debug: &str) -> String {
    if let Some((_, text)) = TOKEN_TEXT.iter().find(|(name, _)| *name == debug) {
        return text.to_string();
    }
    if let (Some(a), Some(b)) = (debug.find('"'), debug.rfind('"')) {
        if b > a {
            return debug[a + 1..b].to_string();
        }
    }
    for number in ["Integer(", "Float("] {
        if let Some(n) = debug.strip_prefix(number).and_then(|r| r.strip_suffix(')')) {
            return n.to_string();
        }
    }
    debug.to_ascii_lowercase()
}

/// What piccolo says it expected, as Lua 5.1's "X expected" words it: a
/// single token (`Comma`: `','`), or a phrase Lua has too.
pub(crate) fn expected_text(expected: &str) -> Option<String> {
    match expected {
        "'=' or 'in'" => return Some(expected.to_string()),
        "parameter name or '...'" => return Some("<name> or '...'".to_string()),
        _ => {}
    }
    let is_token = expected.chars().all(|c| c.is_ascii_alphabetic()) && expected.starts_with(char::is_uppercase);
    is_token.then(|| format!("'{}'", debug_token_text(expected)))
}

/// A token as Lua 5.1 names it in messages.
fn show(t: &Tok) -> String {
    let text = match t {
        Token::Name(s) | Token::String(s) => return String::from_utf8_lossy(s).into_owned(),
        Token::Integer(n) => return n.to_string(),
        Token::Float(f) => return super::numfmt::number(*f),
        Token::Break => "break",
        Token::Do => "do",
        Token::Else => "else",
        Token::ElseIf => "elseif",
        Token::End => "end",
        Token::Function => "function",
        Token::Goto => "goto",
        Token::If => "if",
        Token::In => "in",
        Token::Local => "local",
        Token::Nil => "nil",
        Token::For => "for",
        Token::While => "while",
        Token::Repeat => "repeat",
        Token::Until => "until",
        Token::Return => "return",
        Token::Then => "then",
        Token::True => "true",
        Token::False => "false",
        Token::Not => "not",
        Token::And => "and",
        Token::Or => "or",
        Token::Minus => "-",
        Token::Add => "+",
        Token::Mul => "*",
        Token::Div => "/",
        Token::IDiv => "//",
        Token::Pow => "^",
        Token::Mod => "%",
        Token::Len => "#",
        Token::BitNotXor => "~",
        Token::BitAnd => "&",
        Token::BitOr => "|",
        Token::ShiftRight => ">>",
        Token::ShiftLeft => "<<",
        Token::Concat => "..",
        Token::Dots => "...",
        Token::Assign => "=",
        Token::LessThan => "<",
        Token::LessEqual => "<=",
        Token::GreaterThan => ">",
        Token::GreaterEqual => ">=",
        Token::Equal => "==",
        Token::NotEqual => "~=",
        Token::Dot => ".",
        Token::SemiColon => ";",
        Token::Colon => ":",
        Token::DoubleColon => "::",
        Token::Comma => ",",
        Token::LeftParen => "(",
        Token::RightParen => ")",
        Token::LeftBracket => "[",
        Token::RightBracket => "]",
        Token::LeftBrace => "{",
        Token::RightBrace => "}",
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_token_after_the_expression() {
        let m = |code: &str| expression_statement(code.as_bytes(), 0);
        assert_eq!(m("this is not lua").as_deref(), Some("'=' expected near 'is'"));
        assert_eq!(m("local x = 1 x.y + 1").as_deref(), Some("'=' expected near '+'"));
        assert_eq!(m("a[1] b").as_deref(), Some("'=' expected near 'b'"));
        assert_eq!(m("x").as_deref(), Some("'=' expected near '<eof>'"));
        assert_eq!(m("a.b:c() d").as_deref(), Some("'=' expected near '<eof>'"));
        assert_eq!(m("f(x) g(y) z w").as_deref(), Some("'=' expected near 'w'"));
        assert_eq!(expression_statement(b"local a = 1\nfoo bar", 1).as_deref(), Some("'=' expected near 'bar'"));
    }
}
