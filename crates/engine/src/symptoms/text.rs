//! Text as the symptom rules read it: normalized words, and typos corrected toward the words
//! of the rules.

use std::collections::{HashMap, HashSet};

/// Words shorter than this are never corrected (too many short words are one edit apart).
const MIN_TYPO_WORD_CHARS: usize = 5;
/// Words this long may only have two neighbouring letters swapped ("cnat" → "cant").
const SWAP_ONLY_WORD_CHARS: usize = 4;

/// Lowercase, accents dropped, apostrophes removed, any other non-alphanumeric character a
/// single space; trimmed. `"Can't LOG-IN!!"` → `"cant log in"`.
pub(super) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_apostrophe(c) || is_combining_mark(c) {
            continue;
        }
        for lower in c.to_lowercase() {
            push_folded(&mut out, lower);
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

fn push_folded(out: &mut String, c: char) {
    if let Some(ascii) = fold(c) {
        out.push_str(ascii);
    } else if c.is_alphanumeric() {
        out.push(c);
    } else if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '\u{02bc}' | '`' | '\u{00b4}'
    )
}

fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036f}').contains(&c)
}

/// Latin letters with diacritics as plain ASCII.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' | 'ă' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'ł' | 'ľ' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ř' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ß' => "ss",
        'ť' | 'ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

/// Scripts written without spaces between words: a phrase in them matches anywhere.
fn is_unspaced_script(c: char) -> bool {
    matches!(u32::from(c),
        0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xf900..=0xfaff | 0xff66..=0xff9f)
}

/// Whether a phrase edge (`edge`, its first or last character) next to `neighbour` (the
/// character beyond it, if any) is a word boundary.
pub(super) fn is_boundary(neighbour: Option<char>, edge: Option<char>) -> bool {
    match neighbour {
        None | Some(' ') => true,
        Some(next) => is_unspaced_script(next) || edge.is_some_and(is_unspaced_script),
    }
}

/// The words of the rules' phrases, for typo correction.
#[derive(Debug, Clone, Default)]
pub(super) struct Vocabulary {
    words: HashSet<String>,
    /// Long words by their first character.
    by_first: HashMap<char, Vec<Vec<char>>>,
}

impl Vocabulary {
    pub(super) fn new<'a>(phrases: impl Iterator<Item = &'a str>) -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        for word in phrases.flat_map(str::split_whitespace) {
            if !vocabulary.words.insert(word.to_string()) {
                continue;
            }
            let chars: Vec<char> = word.chars().collect();
            if chars.len() >= SWAP_ONLY_WORD_CHARS {
                vocabulary.by_first.entry(chars[0]).or_default().push(chars);
            }
        }
        vocabulary
    }

    /// The normalized text with each unknown word that is one typo away from a known word
    /// (same first letter) replaced by it.
    pub(super) fn correct(&self, normalized: String) -> String {
        let mut corrected: Option<Vec<String>> = None;
        for (index, word) in normalized.split(' ').enumerate() {
            if let Some(known) = self.correction(word) {
                let words = corrected
                    .get_or_insert_with(|| normalized.split(' ').map(str::to_string).collect());
                words[index] = known;
            }
        }
        match corrected {
            Some(words) => words.join(" "),
            None => normalized,
        }
    }

    fn correction(&self, word: &str) -> Option<String> {
        if word.len() < SWAP_ONLY_WORD_CHARS || self.words.contains(word) {
            return None;
        }
        let chars: Vec<char> = word.chars().collect();
        let fits: fn(&[char], &[char]) -> bool = match chars.len() {
            0..SWAP_ONLY_WORD_CHARS => return None,
            SWAP_ONLY_WORD_CHARS => is_swap,
            _ => within_one_edit,
        };
        let candidates = self.by_first.get(&chars[0])?;
        candidates
            .iter()
            .filter(|known| known.len() >= MIN_TYPO_WORD_CHARS || known.len() == chars.len())
            .find(|known| fits(&chars, known))
            .map(|known| known.iter().collect())
    }
}

/// Two neighbouring letters swapped, nothing else.
fn is_swap(a: &[char], b: &[char]) -> bool {
    a.len() == b.len() && a.len() >= 2 && {
        let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        prefix + 1 < a.len()
            && a[prefix] == b[prefix + 1]
            && a[prefix + 1] == b[prefix]
            && a[prefix + 2..] == b[prefix + 2..]
    }
}

/// One letter missing, extra or wrong, or two neighbours swapped.
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a_rest, b_rest) = (&a[prefix..], &b[prefix..]);
    match (a_rest.len(), b_rest.len()) {
        (0, 0) => false,
        (x, y) if x == y => {
            a_rest[1..] == b_rest[1..]
                || (x >= 2
                    && a_rest[0] == b_rest[1]
                    && a_rest[1] == b_rest[0]
                    && a_rest[2..] == b_rest[2..])
        }
        (x, y) if x > y => a_rest[1..] == *b_rest,
        _ => *a_rest == b_rest[1..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_accents_and_punctuation() {
        assert_eq!(normalize("Can't LOG-IN!!"), "cant log in");
        assert_eq!(
            normalize("  ¿La página está caída?  "),
            "la pagina esta caida"
        );
        assert_eq!(
            normalize("Der Code läuft nicht, Straße"),
            "der code lauft nicht strasse"
        );
        assert_eq!(normalize("won\u{2019}t  run\n\nplease"), "wont run please");
        assert_eq!(normalize("e\u{301}chec"), "echec");
        assert_eq!(normalize("无法登录!"), "无法登录");
        assert_eq!(normalize("🔥🔥 down"), "down");
    }

    #[test]
    fn one_edit_apart() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert!(within_one_edit(&chars("runing"), &chars("running")));
        assert!(within_one_edit(&chars("stcuk"), &chars("stuck")));
        assert!(within_one_edit(&chars("loign"), &chars("login")));
        assert!(within_one_edit(&chars("paymnet"), &chars("payment")));
        assert!(within_one_edit(&chars("slowww"), &chars("sloww")));
        assert!(!within_one_edit(&chars("login"), &chars("login")));
        assert!(!within_one_edit(&chars("lesson"), &chars("session")));
    }

    #[test]
    fn corrects_only_unknown_long_words() {
        let vocabulary = Vocabulary::new(["code stuck", "running", "login"].into_iter());
        assert_eq!(
            vocabulary.correct("my code is stcuk on runing".to_string()),
            "my code is stuck on running"
        );
        assert_eq!(vocabulary.correct("cnat loign".to_string()), "cnat login");
        assert_eq!(vocabulary.correct("logan".to_string()), "login");
        assert_eq!(vocabulary.correct("stuck".to_string()), "stuck");
        let short = Vocabulary::new(["cant log in", "code"].into_iter());
        assert_eq!(short.correct("cnat".to_string()), "cant");
        assert_eq!(short.correct("cane cods".to_string()), "cane cods");
    }
}
