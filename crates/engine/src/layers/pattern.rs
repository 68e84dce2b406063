//! Case-insensitive `*` wildcards for names (services, hosts, exception types).

#[derive(Debug, Clone)]
pub struct Glob {
    text: String,
    parts: Vec<String>,
    anchored_start: bool,
    anchored_end: bool,
}

impl Glob {
    pub fn new(text: &str) -> Glob {
        let lower = text.to_ascii_lowercase();
        Glob {
            parts: lower.split('*').map(str::to_string).collect(),
            anchored_start: !lower.starts_with('*'),
            anchored_end: !lower.ends_with('*'),
            text: text.to_string(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, value: &str) -> bool {
        let value = value.to_ascii_lowercase();
        let mut rest = value.as_str();
        let last = self.parts.len() - 1;
        for (index, part) in self.parts.iter().enumerate() {
            if part.is_empty() {
                continue;
            }
            if index == 0 && self.anchored_start {
                let Some(after) = rest.strip_prefix(part.as_str()) else {
                    return false;
                };
                rest = after;
            } else if index == last && self.anchored_end {
                return rest.len() >= part.len() && rest.ends_with(part.as_str());
            } else {
                let Some(at) = rest.find(part.as_str()) else {
                    return false;
                };
                rest = &rest[at + part.len()..];
            }
        }
        !self.anchored_end || rest.is_empty() || self.parts.last().is_some_and(|p| p.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn wildcards_anchor_where_written() {
        assert!(Glob::new("redis*").matches("Redis-Primary"));
        assert!(!Glob::new("redis*").matches("my-redis"));
        assert!(Glob::new("*-db").matches("orders-db"));
        assert!(!Glob::new("*-db").matches("orders-db-1"));
        assert!(Glob::new("*.rds.amazonaws.com").matches("prod.abc.us-east-1.rds.amazonaws.com"));
        assert!(Glob::new("psycopg2.*").matches("psycopg2.OperationalError"));
        assert!(Glob::new("web").matches("WEB"));
        assert!(!Glob::new("web").matches("webhook"));
        assert!(Glob::new("*runner*").matches("code-runner-3"));
        assert!(Glob::new("a*b*c").matches("aXXbYYc"));
        assert!(!Glob::new("a*b*c").matches("aXXcYYb"));
    }
}
