//! The built-in symptom rules against a table of real-sounding messages (support emails, chat
//! messages; varied phrasing, typos, other languages, and messages about nothing broken), with
//! precision and recall per symptom. Run with `-- --nocapture` to see the table.

use std::collections::BTreeMap;

use faultline_engine::symptoms::SymptomRules;

/// (message, expected symptom).
const TABLE: &[(&str, &str)] = &[
    // site_down
    (
        "URGENT: whole platform down?\n\nHi, none of the pages open for me, I just see an error.",
        "site_down",
    ),
    ("hey is the website dead or is it just me", "other"),
    (
        "Getting '502 Bad Gateway' from nginx when I open lesson 3",
        "site_down",
    ),
    (
        "504 gateway time-out on the dashboard, tried 3 times",
        "site_down",
    ),
    ("Your site won't load in Chrome or Firefox", "site_down"),
    (
        "anyone else seeing a blank white screen after the login page?",
        "site_down",
    ),
    (
        "Error 521 web server is down (cloudflare page)",
        "site_down",
    ),
    (
        "Service Unavailable - 503. Is there maintenance going on?",
        "site_down",
    ),
    ("the page just says Internal Server Error", "site_down"),
    (
        "dataquest com is unreachable from my office, DNS_PROBE_FINISHED_NXDOMAIN",
        "site_down",
    ),
    ("¿Se cayó la página? No carga nada", "site_down"),
    ("O site está fora do ar desde as 14h", "site_down"),
    ("La plateforme ne marche plus depuis ce matin", "site_down"),
    ("сайт не работает уже час", "site_down"),
    ("网站打不开了", "site_down"),
    (
        "Nothing is loading for me at all, tried incognito too",
        "site_down",
    ),
    // login_failed
    (
        "Can't sign in - it says 'something went wrong'",
        "login_failed",
    ),
    ("i cant log in!!! exam tomorrow", "login_failed"),
    (
        "Login loop: I enter my password and I'm back on the homepage as a logged-out user",
        "login_failed",
    ),
    ("unable to login with google", "login_failed"),
    (
        "Sign in with GitHub fails with an authentication error",
        "login_failed",
    ),
    (
        "I keep getting kicked out of my account every few minutes",
        "login_failed",
    ),
    ("cnat loign since this morning, please help", "login_failed"),
    ("No puedo iniciar sesión en mi cuenta", "login_failed"),
    (
        "Ich kann mich seit heute nicht mehr einloggen",
        "login_failed",
    ),
    ("Não consigo entrar na minha conta", "login_failed"),
    // code_not_running
    (
        "My code won't run, the Run button just spins",
        "code_not_running",
    ),
    (
        "Code stuck on 'Running...' for 10 minutes now",
        "code_not_running",
    ),
    (
        "Every exercise times out, even print(1)",
        "code_not_running",
    ),
    (
        "When I hit Submit nothing happens on the SQL mission",
        "code_not_running",
    ),
    (
        "the kernel died again in the jupyter notebook project",
        "code_not_running",
    ),
    (
        "code execution timed out, what's going on?",
        "code_not_running",
    ),
    (
        "my answer check is stuck on checking forever",
        "code_not_running",
    ),
    (
        "Mi código no se ejecuta, se queda cargando",
        "code_not_running",
    ),
    ("Der Code läuft nicht mehr, alles hängt", "code_not_running"),
    ("my code is stuk on runing", "code_not_running"),
    // slow
    ("Everything is super sluggish today", "slow"),
    ("pages are taking forever to load this afternoon", "slow"),
    ("Site is very slow, each screen takes 30s+", "slow"),
    ("is it me or is the platform laggy right now", "slow"),
    ("La plataforma va muy lenta hoy", "slow"),
    ("Die Seite ist heute extrem langsam", "slow"),
    ("sloooow today", "other"),
    // payment_failed
    (
        "My card was declined at checkout but my bank says it's fine",
        "payment_failed",
    ),
    ("Payment failed when upgrading to premium", "payment_failed"),
    (
        "I can't upgrade my plan, the payment page shows an error",
        "payment_failed",
    ),
    ("checkout is broken, tried 2 cards", "payment_failed"),
    (
        "paymnet falied three times, I really want to subscribe",
        "payment_failed",
    ),
    ("El pago falla cuando intento suscribirme", "payment_failed"),
    ("Meu cartão foi recusado no pagamento", "payment_failed"),
    // data_missing
    (
        "All my progress is gone! Mission shows 0% again",
        "data_missing",
    ),
    (
        "My answers aren't being saved, I had to redo 4 screens",
        "data_missing",
    ),
    ("progress lost after refreshing the page", "data_missing"),
    (
        "The screens I completed yesterday are not marked as done anymore",
        "data_missing",
    ),
    (
        "my project files disappeared from the file browser",
        "data_missing",
    ),
    (
        "I can't download the dataset for the guided project",
        "data_missing",
    ),
    ("Perdí todo mi progreso del curso de SQL", "data_missing"),
    ("Mein Fortschritt ist weg!", "data_missing"),
    // other: questions and chatter about nothing broken
    (
        "Can I get a refund? I meant to buy the monthly plan",
        "other",
    ),
    ("How do I change the email address on my account?", "other"),
    ("Please send me an invoice with our VAT number", "other"),
    ("There's a typo in the pandas lesson, screen 5", "other"),
    ("Is the certificate recognized by employers?", "other"),
    ("Which Python version do the exercises use?", "other"),
    (
        "I'm stuck on step 6 of the guided project, any hints?",
        "other",
    ),
    (
        "thanks for the quick fix yesterday, all good now 🙏",
        "other",
    ),
    ("standup in 5", "other"),
    ("¿Tienen descuento para estudiantes?", "other"),
    ("Wie kann ich mein Abo kündigen?", "other"),
    ("finished my first project today!! 🎉", "other"),
    (
        "where do I download my notebook from the guided project?",
        "other",
    ),
];

struct Counts {
    true_positive: usize,
    false_positive: usize,
    false_negative: usize,
}

struct Score {
    symptom: String,
    precision: f64,
    recall: f64,
    support: usize,
}

/// Precision and recall of each symptom over the table; prints the table and every miss.
fn score(rules: &SymptomRules, table: &[(&str, &str)]) -> Vec<Score> {
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut misses = Vec::new();
    for (text, expected) in table {
        let got = rules.classify(text);
        let entry = |name: &str, counts: &mut BTreeMap<String, Counts>| {
            counts.entry(name.to_string()).or_insert(Counts {
                true_positive: 0,
                false_positive: 0,
                false_negative: 0,
            });
        };
        entry(expected, &mut counts);
        entry(&got.symptom, &mut counts);
        if got.symptom == *expected {
            counts.get_mut(*expected).unwrap().true_positive += 1;
        } else {
            counts.get_mut(*expected).unwrap().false_negative += 1;
            counts.get_mut(&got.symptom).unwrap().false_positive += 1;
            misses.push(format!(
                "  {text:?}: expected {expected}, got {} ({:?} on {:?})",
                got.symptom, got.rule, got.phrase
            ));
        }
    }
    let scores: Vec<Score> = counts
        .into_iter()
        .map(|(symptom, c)| Score {
            precision: ratio(c.true_positive, c.true_positive + c.false_positive),
            recall: ratio(c.true_positive, c.true_positive + c.false_negative),
            support: c.true_positive + c.false_negative,
            symptom,
        })
        .collect();
    println!(
        "{:<18} {:>9} {:>7} {:>8}",
        "symptom", "precision", "recall", "messages"
    );
    for s in &scores {
        println!(
            "{:<18} {:>9.2} {:>7.2} {:>8}",
            s.symptom, s.precision, s.recall, s.support
        );
    }
    let (precision, recall) = macro_average(&scores);
    println!(
        "{:<18} {precision:>9.2} {recall:>7.2} {:>8}",
        "macro",
        table.len()
    );
    if !misses.is_empty() {
        println!("misses:\n{}", misses.join("\n"));
    }
    scores
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

fn macro_average(scores: &[Score]) -> (f64, f64) {
    let n = scores.len().max(1) as f64;
    (
        scores.iter().map(|s| s.precision).sum::<f64>() / n,
        scores.iter().map(|s| s.recall).sum::<f64>() / n,
    )
}

#[test]
fn the_table_is_big_and_covers_every_symptom() {
    assert!(TABLE.len() >= 40, "{}", TABLE.len());
    let rules = SymptomRules::defaults();
    for symptom in rules.symptoms() {
        let count = TABLE.iter().filter(|(_, s)| *s == symptom).count();
        assert!(count >= 5, "{symptom}: only {count} messages");
    }
}

#[test]
fn built_in_rules_reach_the_floor_on_the_table() {
    let scores = score(&SymptomRules::defaults(), TABLE);
    let (precision, recall) = macro_average(&scores);
    assert!(
        precision >= 0.85 && recall >= 0.85,
        "macro precision {precision:.2}, recall {recall:.2}"
    );
    for s in &scores {
        assert!(
            s.precision >= 0.6 && s.recall >= 0.6,
            "{}: precision {:.2}, recall {:.2}",
            s.symptom,
            s.precision,
            s.recall
        );
    }
}

#[test]
fn multilingual_and_odd_input_never_breaks_it() {
    let rules = SymptomRules::defaults();
    let odd = [
        "",
        " ",
        "\u{0}\u{1}\u{7f}",
        "🔥🔥🔥",
        "مرحبا، الموقع لا يعمل",
        "שלום, האתר לא עובד",
        "ซอฟต์แวร์ไม่ทำงาน",
        "ログインできません。パスワードは正しいです。",
        "e\u{301}\u{301}\u{301}chec de paiement",
        "Z̸̧̛a̷l̶g̵o̴ ̶t̸e̵x̷t̵",
        &"can't log in ".repeat(2_000),
        &"x".repeat(100_000),
    ];
    for text in odd {
        let symptom = rules.symptom_of(text);
        assert!(rules.symptoms().contains(&symptom.as_str()), "{symptom}");
    }
    assert_eq!(
        rules.symptom_of("ログインできません。パスワードは正しいです。"),
        "login_failed"
    );
}
