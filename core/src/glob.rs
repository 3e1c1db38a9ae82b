//! Glob-style pattern matching with Redis's rules (KEYS, SCAN MATCH, later
//! PSUBSCRIBE): `*`, `?`, `[abc]`, `[^a]`, `[a-z]` (reversed ranges allowed), and `\`
//! escapes, all over bytes.

/// Deepest `*` nesting followed before giving up, so a hostile pattern cannot
/// exhaust the stack (Redis applies the same kind of cap).
const MAX_NESTING: usize = 1000;

/// True if `string` matches the glob `pattern`.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: usize) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    let (mut p, mut i) = (0usize, 0usize);
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                while i < s.len() {
                    if match_impl(&pat[p + 1..], &s[i..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    i += 1;
                }
                // The rest of the pattern failed on every suffix; a longer match of
                // an enclosing `*` cannot succeed either.
                *skip_longer = true;
                return false;
            }
            b'?' => i += 1,
            b'[' => {
                p += 1;
                let not = p < pat.len() && pat[p] == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                let c = s[i];
                loop {
                    if p + 1 < pat.len() && pat[p] == b'\\' {
                        p += 1;
                        if pat[p] == c {
                            matched = true;
                        }
                    } else if p >= pat.len() {
                        // Unterminated class: the pattern ends here.
                        p = pat.len() - 1;
                        break;
                    } else if pat[p] == b']' {
                        break;
                    } else if p + 2 < pat.len() && pat[p + 1] == b'-' {
                        let (mut lo, mut hi) = (pat[p], pat[p + 2]);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        let mut cc = c;
                        if nocase {
                            lo = lo.to_ascii_lowercase();
                            hi = hi.to_ascii_lowercase();
                            cc = cc.to_ascii_lowercase();
                        }
                        p += 2;
                        if cc >= lo && cc <= hi {
                            matched = true;
                        }
                    } else if eq(pat[p], c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                i += 1;
            }
            b'\\' if p + 1 < pat.len() => {
                p += 1;
                if !eq(pat[p], s[i], nocase) {
                    return false;
                }
                i += 1;
            }
            c => {
                if !eq(c, s[i], nocase) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while p < pat.len() && pat[p] == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == pat.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("*", "anything"));
        assert!(!m("*", ""), "as Redis: the loop never starts on an empty string");
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("user:*", "user:1"));
        assert!(!m("user:*", "users"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("[\\]]", "]"));
        assert!(m("*a*", "banana"));
        assert!(m("a**", "a"));
    }

    #[test]
    fn unterminated_class_and_trailing_escape() {
        assert!(m("[abc", "a"));
        assert!(!m("[abc", "d"));
        assert!(m("a\\", "a\\"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(glob_match(b"[A-C]x", b"bX", true));
    }

    #[test]
    fn pathological_patterns_finish() {
        let pat = "a*".repeat(5000) + "b";
        let s = "a".repeat(5000);
        assert!(!m(&pat, &s));
        let pat = "*a".repeat(30) + "b";
        assert!(!m(&pat, &"a".repeat(60)));
    }
}
