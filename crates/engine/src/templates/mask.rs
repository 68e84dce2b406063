//! Variable maskers: decide, for one token, whether it is a variable.
//!
//! All maskers are hand-written byte scanners (no regex). They work on the
//! *core* of a token, i.e. the token without its wrapping punctuation
//! (`[1.2.3.4]` → `1.2.3.4`, `port,` → `port`). The classes recognised are:
//!
//! * anything containing a digit: numbers, hex, ids, uuids, IPs and ports,
//!   dates and times, sizes with attached units (`10ms`, `41C`), …, except
//!   short identifiers with a single digit (`eth0`, `ssh2`, `SOCKS5`);
//! * paths (`/var/log`, `./run`, `C:\dir`, `a/b/c`) and URLs (`scheme://…`);
//! * e-mail addresses and host names under a well-known top-level domain;
//! * the literals `true`, `false`, `null` and `nil`;
//! * values of `key=value` pairs, and of `key:value` pairs whose value
//!   is variable by the rules above.
//!
//! Context-dependent classes (unit words after a number, month and weekday
//! names next to a number) are handled by the tokenizer, which sees the
//! neighbouring tokens; the word lists live here.

/// What a token core is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreClass {
    /// A constant word.
    Constant,
    /// A variable. `numeric` is true when the core is a plain number, which
    /// lets a following unit word (`12 ms`) join the variable.
    Variable { numeric: bool },
    /// `key<sep>value` whose value is variable; `value_at` is the byte offset
    /// of the value inside the core (just after the separator).
    KeyValue { value_at: u32 },
}

/// Byte classes tracked by [`Classes`].
pub(crate) mod class {
    pub const OTHER: u8 = 0;
    pub const DIGIT: u8 = 1;
    pub const LETTER: u8 = 2;
    pub const DOT: u8 = 3;
    pub const SLASH: u8 = 4;
    pub const BACKSLASH: u8 = 5;
    pub const EQUALS: u8 = 6;
    pub const COLON: u8 = 7;
    pub const AT: u8 = 8;
    pub const SPACE: u8 = 9;
}

/// The [`class`] of every byte value.
pub(crate) const BYTE_CLASS: [u8; 256] = {
    let mut table = [class::OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = match c {
            b'0'..=b'9' => class::DIGIT,
            b'a'..=b'z' | b'A'..=b'Z' => class::LETTER,
            b'.' => class::DOT,
            b'/' => class::SLASH,
            b'\\' => class::BACKSLASH,
            b'=' => class::EQUALS,
            b':' => class::COLON,
            b'@' => class::AT,
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => class::SPACE,
            _ => class::OTHER,
        };
        b += 1;
    }
    table
};

/// The set of byte [`class`]es in a piece of text, as bits.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Classes(u16);

impl Classes {
    /// Classes of all bytes of `bytes`.
    #[must_use]
    #[inline]
    pub fn of(bytes: &[u8]) -> Self {
        Classes(
            bytes
                .iter()
                .fold(0, |m, &b| m | 1 << BYTE_CLASS[b as usize]),
        )
    }

    /// Scan `bytes` up to the first whitespace: the classes seen and the
    /// length. This loop sees every byte of every message, so it only
    /// ORs bits; everything else is computed later, and only when needed.
    #[must_use]
    #[inline(always)]
    pub fn scan_word(bytes: &[u8]) -> (Self, usize) {
        let mut mask = 0u16;
        for (i, &b) in bytes.iter().enumerate() {
            let c = BYTE_CLASS[b as usize];
            if c == class::SPACE {
                return (Classes(mask), i);
            }
            mask |= 1 << c;
        }
        (Classes(mask), bytes.len())
    }

    #[must_use]
    #[inline]
    pub fn has(self, c: u8) -> bool {
        self.0 & (1 << c) != 0
    }

    /// True when every byte is of class `c` (and there is at least one).
    #[must_use]
    #[inline]
    pub fn only(self, c: u8) -> bool {
        self.0 == 1 << c
    }
}

fn count(core: &[u8], byte: u8) -> usize {
    core.iter().filter(|&&b| b == byte).count()
}

fn count_class(core: &[u8], c: u8) -> usize {
    core.iter()
        .filter(|&&b| BYTE_CLASS[b as usize] == c)
        .count()
}

fn find(core: &[u8], byte: u8) -> Option<usize> {
    core.iter().position(|&b| b == byte)
}

/// Classify a token core (non-empty, no wrapping punctuation).
#[must_use]
pub fn classify(core: &[u8]) -> CoreClass {
    classify_with(core, Classes::of(core))
}

/// [`classify`] with the byte classes of `core` already known.
pub(crate) fn classify_with(core: &[u8], classes: Classes) -> CoreClass {
    if classes.only(class::LETTER) {
        // The common case: a plain word.
        return if is_literal_word(core) {
            CoreClass::Variable { numeric: false }
        } else {
            CoreClass::Constant
        };
    }
    if classes.only(class::DIGIT) {
        return CoreClass::Variable { numeric: true };
    }
    let has_colon = classes.has(class::COLON);
    if has_colon && is_url(core) {
        return CoreClass::Variable { numeric: false };
    }
    if classes.has(class::EQUALS) {
        if let Some(eq) = find(core, b'=') {
            if eq + 1 < core.len() && is_key(&core[..eq], true) {
                return CoreClass::KeyValue {
                    value_at: (eq + 1) as u32,
                };
            }
        }
    }
    if (classes.has(class::SLASH) || classes.has(class::BACKSLASH)) && is_path(core, classes) {
        return CoreClass::Variable { numeric: false };
    }
    if has_colon {
        if let Some(class) = classify_colon_pair(core) {
            return class;
        }
    }
    if classes.has(class::AT) && is_email(core) {
        return CoreClass::Variable { numeric: false };
    }
    if classes.has(class::DIGIT) {
        if is_indexed_name(core) {
            return CoreClass::Constant;
        }
        return CoreClass::Variable {
            numeric: is_number(core),
        };
    }
    if (classes.has(class::DOT) && is_hostname(core)) || is_literal_word(core) {
        return CoreClass::Variable { numeric: false };
    }
    CoreClass::Constant
}

/// `key:value` with a variable value: a masked pair, or a variable when it
/// is a host and port.
fn classify_colon_pair(core: &[u8]) -> Option<CoreClass> {
    let colon = find(core, b':')?;
    let (key, value) = (&core[..colon], &core[colon + 1..]);
    if value.is_empty() || !is_key(key, false) || !is_variable_value(value) {
        return None;
    }
    if is_port(value) && key.iter().all(|&b| b.is_ascii_lowercase() || b == b'-') {
        // `localhost:8080`: a host name and port, not a field.
        return Some(CoreClass::Variable { numeric: false });
    }
    Some(CoreClass::KeyValue {
        value_at: (colon + 1) as u32,
    })
}

/// `true`, `false`, `null`, `nil`: values, not words.
#[must_use]
pub fn is_literal_word(core: &[u8]) -> bool {
    if !(3..=5).contains(&core.len()) || !matches!(core[0] | 0x20, b't' | b'f' | b'n') {
        return false;
    }
    let mut buf = [0u8; 12];
    matches!(
        lowercase(core, &mut buf),
        Some(b"true" | b"false" | b"null" | b"nil")
    )
}

/// Whether the value of a `key:value` pair is a variable on its own.
fn is_variable_value(value: &[u8]) -> bool {
    !matches!(classify(value), CoreClass::Constant)
}

/// 1 to 5 decimal digits.
fn is_port(value: &[u8]) -> bool {
    (1..=5).contains(&value.len()) && value.iter().all(u8::is_ascii_digit)
}

/// `scheme://…` or `scheme:/…` (e.g. `jar:file:/D:/x`).
fn is_url(core: &[u8]) -> bool {
    core.windows(2).any(|w| w == b":/")
}

/// A key of a `key=value` pair (`equals`) or of a `key:value` pair: starts
/// with a letter, `_` or `-`, then letters, `_` and `-`. `key=value` keys may
/// also hold digits, `.` and `:` (`PSR0=`, `env:user.dir=`); `key:value`
/// keys may not, so `host.example.com:80` and `node7:3` stay whole variables.
fn is_key(key: &[u8], equals: bool) -> bool {
    let Some(&first) = key.first() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == b'_' || first == b'-') {
        return false;
    }
    key.iter().all(|&b| {
        b.is_ascii_alphabetic()
            || matches!(b, b'_' | b'-')
            || (equals && (b.is_ascii_digit() || matches!(b, b'.' | b':')))
    })
}

/// Absolute, home-relative, dot-relative or drive paths, and anything with at
/// least two path separators (`a/b/c`, `dir\sub\file`).
fn is_path(core: &[u8], classes: Classes) -> bool {
    let alphanumeric = classes.has(class::LETTER) || classes.has(class::DIGIT);
    if !alphanumeric {
        return false;
    }
    let starts = |p: &[u8]| core.starts_with(p);
    let drive = core.len() > 2
        && core[0].is_ascii_alphabetic()
        && core[1] == b':'
        && matches!(core[2], b'/' | b'\\');
    (core.len() > 1 && core[0] == b'/')
        || drive
        || starts(b"./")
        || starts(b"../")
        || starts(b"~/")
        || count(core, b'/') >= 2
        || count(core, b'\\') >= 2
}

/// `local@domain.tld`.
fn is_email(core: &[u8]) -> bool {
    match find(core, b'@') {
        Some(at) => at > 0 && core.len() > at + 3 && core[at + 1..].contains(&b'.'),
        None => false,
    }
}

/// A plain number: optional sign, then digits with optional `.`/`,`
/// separators (`42`, `-1`, `3.14`, `1,234`).
#[must_use]
pub fn is_number(core: &[u8]) -> bool {
    let body = match core.first() {
        Some(b'+' | b'-') => &core[1..],
        _ => core,
    };
    let Some(first) = body.first() else {
        return false;
    };
    if !first.is_ascii_digit() {
        return false;
    }
    body.iter()
        .all(|&b| b.is_ascii_digit() || matches!(b, b'.' | b','))
}

/// Identifier with exactly one digit, right after a letter, and at least
/// two letters: `eth0`, `ssh2`, `SOCKS5`, `md5`, `log4j`, `jk2_init()`. Such
/// names are usually constants (interface, protocol, function), unlike
/// `node12`, `U11`, `v2` or `blk_1`.
fn is_indexed_name(core: &[u8]) -> bool {
    let after_letter = core
        .windows(2)
        .any(|w| w[0].is_ascii_alphabetic() && w[1].is_ascii_digit());
    count_class(core, class::DIGIT) == 1
        && count_class(core, class::LETTER) >= 2
        && after_letter
        && core
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'(' | b')'))
}

/// Host names such as `example.com`, `mail.example.com` or
/// `proxy.cse.example.edu.hk`: dot-separated labels of `[a-z0-9-]` ending
/// with a common top-level domain; at least three labels unless the domain
/// is `com`, `net` or `org`. Java class names (`org.apache.Foo`) end with a
/// class or package name instead, so they stay constant.
#[must_use]
pub fn is_hostname(core: &[u8]) -> bool {
    let mut labels = 0;
    for label in core.split(|&b| b == b'.') {
        let ok = !label.is_empty()
            && label
                .iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return false;
        }
        labels += 1;
    }
    let first = core.split(|&b| b == b'.').next().unwrap_or_default();
    let last = core.rsplit(|&b| b == b'.').next().unwrap_or_default();
    let generic = matches!(last, b"com" | b"net" | b"org");
    (labels >= 3 || (labels == 2 && generic)) && is_tld(last) && !is_package_root(first)
}

/// First labels of reverse-DNS package names (`org.apache.commons.io`).
fn is_package_root(label: &[u8]) -> bool {
    const ROOTS: &[&[u8]] = &[
        b"com", b"org", b"net", b"io", b"java", b"javax", b"sun", b"android",
    ];
    ROOTS.contains(&label)
}

fn is_tld(label: &[u8]) -> bool {
    const TLDS: &[&[u8]] = &[
        b"com",
        b"net",
        b"org",
        b"edu",
        b"gov",
        b"mil",
        b"int",
        b"info",
        b"biz",
        b"io",
        b"co",
        b"me",
        b"local",
        b"lan",
        b"internal",
        b"cn",
        b"hk",
        b"tw",
        b"jp",
        b"kr",
        b"in",
        b"uk",
        b"de",
        b"fr",
        b"nl",
        b"ru",
        b"br",
        b"au",
        b"ca",
        b"it",
        b"es",
        b"se",
        b"no",
        b"fi",
        b"dk",
        b"pl",
        b"cz",
        b"ch",
        b"at",
        b"be",
        b"ie",
        b"il",
        b"sg",
        b"my",
        b"th",
        b"vn",
        b"id",
        b"ph",
        b"nz",
        b"za",
        b"mx",
        b"ar",
        b"cl",
        b"om",
        b"ae",
        b"sa",
        b"tr",
        b"ua",
        b"us",
        b"eu",
    ];
    TLDS.contains(&label)
}

/// Units that belong to the number before them: `403 bytes`, `5 sec`,
/// `(1.2 KB)`.
#[must_use]
pub fn is_unit_word(word: &[u8]) -> bool {
    let mut buf = [0u8; 12];
    let Some(w) = lowercase(word, &mut buf) else {
        return false;
    };
    matches!(
        w,
        b"b" | b"byte"
            | b"bytes"
            | b"kb"
            | b"mb"
            | b"gb"
            | b"tb"
            | b"pb"
            | b"kib"
            | b"mib"
            | b"gib"
            | b"tib"
            | b"kbps"
            | b"mbps"
            | b"gbps"
            | b"bps"
            | b"ns"
            | b"nsec"
            | b"nanosecond"
            | b"nanoseconds"
            | b"us"
            | b"usec"
            | b"microsecond"
            | b"microseconds"
            | b"ms"
            | b"msec"
            | b"msecs"
            | b"millis"
            | b"millisecond"
            | b"milliseconds"
            | b"s"
            | b"sec"
            | b"secs"
            | b"second"
            | b"seconds"
            | b"min"
            | b"mins"
            | b"minute"
            | b"minutes"
            | b"h"
            | b"hr"
            | b"hrs"
            | b"hour"
            | b"hours"
            | b"day"
            | b"days"
            | b"hz"
            | b"khz"
            | b"mhz"
            | b"ghz"
            | b"%"
            | b"percent"
    )
}

/// Month, weekday, time-zone and AM/PM words, which are part of a date when
/// they stand next to a number (`Fri Jul 01 08:16:53 PDT 2005`).
#[must_use]
pub fn is_date_word(word: &[u8]) -> bool {
    let mut buf = [0u8; 12];
    let Some(w) = lowercase(word, &mut buf) else {
        return false;
    };
    matches!(
        w,
        b"jan"
            | b"feb"
            | b"mar"
            | b"apr"
            | b"may"
            | b"jun"
            | b"jul"
            | b"aug"
            | b"sep"
            | b"sept"
            | b"oct"
            | b"nov"
            | b"dec"
            | b"january"
            | b"february"
            | b"march"
            | b"april"
            | b"june"
            | b"july"
            | b"august"
            | b"september"
            | b"october"
            | b"november"
            | b"december"
            | b"mon"
            | b"tue"
            | b"tues"
            | b"wed"
            | b"thu"
            | b"thur"
            | b"thurs"
            | b"fri"
            | b"sat"
            | b"sun"
            | b"monday"
            | b"tuesday"
            | b"wednesday"
            | b"thursday"
            | b"friday"
            | b"saturday"
            | b"sunday"
            | b"utc"
            | b"gmt"
            | b"z"
            | b"am"
            | b"pm"
            | b"pst"
            | b"pdt"
            | b"est"
            | b"edt"
            | b"cst"
            | b"cdt"
            | b"mst"
            | b"mdt"
            | b"cet"
            | b"cest"
            | b"bst"
            | b"ist"
            | b"jst"
            | b"kst"
            | b"hkt"
            | b"eet"
            | b"eest"
            | b"wet"
            | b"aest"
    )
}

/// ASCII-lowercase `word` into `buf`; `None` if it does not fit.
fn lowercase<'a>(word: &[u8], buf: &'a mut [u8; 12]) -> Option<&'a [u8]> {
    let out = buf.get_mut(..word.len())?;
    for (o, b) in out.iter_mut().zip(word) {
        *o = b.to_ascii_lowercase();
    }
    Some(out)
}

/// Punctuation stripped from the start of a token before classifying it.
#[must_use]
#[inline]
pub fn is_leading_punct(b: u8) -> bool {
    matches!(b, b'(' | b'[' | b'{' | b'<' | b'"' | b'\'' | b'`')
}

/// Punctuation stripped from the end of a token before classifying it.
#[must_use]
#[inline]
pub fn is_trailing_punct(b: u8) -> bool {
    matches!(
        b,
        b')' | b']' | b'}' | b'>' | b'"' | b'\'' | b'`' | b',' | b';' | b':' | b'.' | b'!' | b'?'
    )
}

/// The bracket or quote that closes `open`.
#[must_use]
#[inline]
pub fn closer_of(open: u8) -> Option<u8> {
    match open {
        b'(' => Some(b')'),
        b'[' => Some(b']'),
        b'{' => Some(b'}'),
        b'<' => Some(b'>'),
        b'"' | b'\'' | b'`' => Some(open),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(s: &str) -> bool {
        matches!(classify(s.as_bytes()), CoreClass::Variable { .. })
    }
    fn constant(s: &str) -> bool {
        classify(s.as_bytes()) == CoreClass::Constant
    }
    fn kv(s: &str) -> Option<usize> {
        match classify(s.as_bytes()) {
            CoreClass::KeyValue { value_at } => Some(value_at as usize),
            _ => None,
        }
    }

    #[test]
    fn numbers() {
        for s in ["0", "42", "-17", "+3", "3.14", "1,234", "1.2.3"] {
            assert!(var(s), "{s}");
            assert!(is_number(s.as_bytes()), "{s}");
        }
        assert_eq!(classify(b"10ms"), CoreClass::Variable { numeric: false });
        assert!(!is_number(b"x1"));
        assert!(!is_number(b"-"));
    }

    #[test]
    fn hex_and_ids() {
        for s in [
            "0x1f",
            "0xDEADBEEF",
            "003a90fc",
            "blk_-6952295868487656571",
            "appattempt_1445144423722_0020_000001",
            "node-129",
            "core.2275",
        ] {
            assert!(var(s), "{s}");
        }
    }

    #[test]
    fn uuids() {
        assert!(var("123e4567-e89b-12d3-a456-426614174000"));
        assert!(var("6005-08b4-0001-00c6-0006-3000-003d-0000"));
    }

    #[test]
    fn ips_and_ports() {
        for s in [
            "10.251.73.220",
            "10.251.73.220:50010",
            "fe80::1",
            "::1",
            "1.2.3.4/24",
        ] {
            assert!(var(s), "{s}");
        }
        assert!(var("proxy.example.com:5070"));
        assert!(var("msra-sa-41:9000"));
        assert!(var("localhost:8080"));
        assert!(var("wpad:80"));
    }

    #[test]
    fn paths_and_urls() {
        for s in [
            "/etc/httpd/conf/workers2.properties",
            "/var/www/html/",
            "./runtime_malloc",
            "~/x",
            "C:\\Users\\me",
            "C:/x",
            "hdfs://host:9000/tmp",
            "http://example.com",
            "jar:file:/D:/a.jar",
            "a/b/c",
        ] {
            assert!(var(s), "{s}");
        }
        for s in ["power/control", "n/a", "I/O", "/", "//"] {
            assert!(constant(s), "{s}");
        }
    }

    #[test]
    fn emails_and_hosts() {
        assert!(var("john.doe@example.com"));
        assert!(var("ns.marryaldkfaczcz.com"));
        assert!(var("github.com"));
        assert!(constant("setup.py"));
        assert!(constant("user.name"));
        assert!(constant("com.google"));
        assert!(var("proxy.cse.cuhk.edu.hk"));
        assert!(constant("org.apache.hadoop.mapreduce.Job"));
        assert!(constant("java.io.IOException"));
        assert!(constant("org.apache.commons.io"));
        assert!(constant("workerEnv.init()"));
        assert!(constant("user@"));
    }

    #[test]
    fn dates_and_times() {
        for s in [
            "2005-07-01",
            "08:16:53",
            "06/10/2013",
            "17:26",
            "2016-09-28T04:30:30Z",
        ] {
            assert!(var(s), "{s}");
        }
        assert!(is_date_word(b"Jul"));
        assert!(is_date_word(b"FRI"));
        assert!(is_date_word(b"PDT"));
        assert!(!is_date_word(b"July4"));
    }

    #[test]
    fn durations_and_sizes() {
        assert!(is_unit_word(b"bytes"));
        assert!(is_unit_word(b"KB"));
        assert!(is_unit_word(b"sec"));
        assert!(is_unit_word(b"milliseconds"));
        assert!(!is_unit_word(b"times"));
        assert!(var("65020ms"));
        assert!(var("41C"));
        assert!(var("1.5GB"));
    }

    #[test]
    fn key_values() {
        assert_eq!(kv("uid=0"), Some(4));
        assert_eq!(kv("user=root"), Some(5));
        assert_eq!(kv("PSR0=00001f01"), Some(5));
        assert_eq!(kv("sessionid:0x34ed9"), Some(10));
        assert_eq!(kv("PendingReds:1"), Some(12));
        assert!(var("reqpath:/a/b"));
        // empty value, or a constant after a colon, is no key/value pair
        assert!(constant("logname="));
        assert!(constant("Error:KeeperErrorCode"));
        assert!(constant("type:create"));
        // a number or time is no key
        assert!(var("17:26:01"));
        assert!(var("0=1"));
    }

    #[test]
    fn indexed_names_are_constant() {
        for s in [
            "eth0",
            "ssh2",
            "SOCKS5",
            "md5",
            "alt0",
            "jk2_init(",
            "log4j",
        ] {
            assert!(constant(s), "{s}");
        }
        for s in ["node12", "U11", "v2", "a1", "storage234", "blk_1", "user_7"] {
            assert!(var(s), "{s}");
        }
    }

    #[test]
    fn literals_are_variables() {
        for s in ["true", "False", "NULL", "nil"] {
            assert!(var(s), "{s}");
        }
        assert!(constant("none"));
        assert_eq!(kv("nodeBlacklistingEnabled:true"), Some(24));
    }

    #[test]
    fn plain_words_are_constant() {
        for s in [
            "error",
            "Received",
            "pam_unix(sshd:auth)",
            "x+",
            "****",
            "r-o",
        ] {
            assert!(constant(s), "{s}");
        }
    }
}
