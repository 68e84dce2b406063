//! What people write: customers telling support what they see (symptoms, never causes), their
//! everyday questions, and staff talking in Slack. Several phrasings, a few languages, typos.

use crate::rng::Rng;

/// What a user noticed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Symptom {
    SiteDown,
    BadGateway,
    CantLogin,
    CodeStuck,
    Slow,
    PaymentFailed,
    ProgressLost,
    FilesMissing,
    BlankPage,
    NoEmail,
    GithubLogin,
    DnsFailure,
    SslError,
    EdgeError,
}

struct Phrases {
    subjects: &'static [&'static str],
    bodies: &'static [&'static str],
    foreign: &'static [&'static str],
}

fn phrases(symptom: Symptom) -> Phrases {
    match symptom {
        Symptom::SiteDown => Phrases {
            subjects: &[
                "site down?",
                "Website not working",
                "is the platform down",
                "Can't access anything",
                "down??",
            ],
            bodies: &[
                "Is the site down? Nothing loads for me.",
                "I get an error page whenever I try to open my dashboard.",
                "the website isn't working, I was in the middle of a lesson",
                "Is anyone else having problems? Every page shows an error.",
                "Hi, the platform seems to be down. I tried two browsers.",
                "Getting 'something went wrong' on every page since a few minutes.",
            ],
            foreign: &[
                "¿La página está caída? No puedo entrar.",
                "o site está fora do ar?",
                "Die Seite funktioniert nicht, nur Fehlermeldungen.",
                "le site ne marche plus ?",
            ],
        },
        Symptom::BadGateway => Phrases {
            subjects: &[
                "502 Bad Gateway",
                "Error 502",
                "bad gateway error",
                "503 Service Unavailable",
            ],
            bodies: &[
                "I keep getting 502 Bad Gateway when I open a mission.",
                "Getting a 'Bad Gateway' error page, refreshing doesn't help.",
                "503 service temporarily unavailable on every page",
                "The site shows 502 bad gateway nginx. Is it maintenance?",
            ],
            foreign: &[
                "Me sale error 502 Bad Gateway.",
                "Erro 502 ao abrir o painel.",
            ],
        },
        Symptom::CantLogin => Phrases {
            subjects: &[
                "can't log in",
                "Login not working",
                "Unable to sign in",
                "logged out and can't get back in",
            ],
            bodies: &[
                "I can't log in, it just sends me back to the home page.",
                "I got logged out and now the login button does nothing.",
                "Login says 'something went wrong, please try again later'.",
                "Every time I log in I end up on the landing page like I'm logged out.",
                "cant login!! i have an exam prep session in an hour",
                "My password is correct but login fails with an error.",
            ],
            foreign: &[
                "No puedo iniciar sesión.",
                "Não consigo fazer login.",
                "Ich kann mich nicht einloggen.",
                "Je n'arrive pas à me connecter.",
            ],
        },
        Symptom::CodeStuck => Phrases {
            subjects: &[
                "code stuck on running",
                "Run button not working",
                "code won't run",
                "Code execution timeout",
            ],
            bodies: &[
                "My code is stuck on 'Running...' forever.",
                "When I click Run nothing happens, it just spins.",
                "code execution times out even for print('hello')",
                "The run button has been loading for 5 minutes, is the code runner down?",
                "My code won't run in the mission, I get a timeout error.",
                "Submitting my answer just hangs on 'Checking...'",
            ],
            foreign: &[
                "Mi código se queda en 'Running' y no termina.",
                "Meu código não executa, fica carregando.",
                "Der Code läuft nicht, bleibt bei 'Running' hängen.",
            ],
        },
        Symptom::Slow => Phrases {
            subjects: &[
                "very slow today",
                "Site is really slow",
                "pages take forever",
                "slow",
            ],
            bodies: &[
                "Everything is so slow today, each page takes like 20 seconds.",
                "Is it just me or is the platform really slow right now?",
                "The lessons take forever to load.",
                "site super slow, sometimes it doesn't load at all",
                "Loading the next screen takes ages today.",
            ],
            foreign: &[
                "La plataforma está muy lenta hoy.",
                "O site está muito lento.",
                "Die Seite ist heute extrem langsam.",
            ],
        },
        Symptom::PaymentFailed => Phrases {
            subjects: &[
                "payment failed",
                "Can't upgrade",
                "Checkout error",
                "card declined?",
            ],
            bodies: &[
                "I tried to pay for the annual plan and it says payment failed.",
                "Checkout shows an error, my bank says no charge was attempted.",
                "I can't upgrade to premium, the payment page gives an error.",
                "My card keeps getting rejected but it works everywhere else.",
                "Payment failed 3 times, please help, I want to subscribe today.",
            ],
            foreign: &[
                "El pago falla al intentar suscribirme.",
                "O pagamento não passa.",
            ],
        },
        Symptom::ProgressLost => Phrases {
            subjects: &[
                "my progress is gone",
                "Progress not saving",
                "lost my progress",
                "answers not saved",
            ],
            bodies: &[
                "My progress is gone, the mission shows 0% again.",
                "My answers aren't being saved, I have to redo the screens.",
                "I completed 3 screens but they are not marked as done.",
                "progress not saving since this morning",
            ],
            foreign: &["Mi progreso no se guarda.", "Meu progresso sumiu."],
        },
        Symptom::FilesMissing => Phrases {
            subjects: &[
                "project files missing",
                "Dataset won't download",
                "My files disappeared",
                "can't open project",
            ],
            bodies: &[
                "My project files disappeared, the file list is empty.",
                "I can't download the dataset for the guided project, it errors out.",
                "Opening my project gives an error loading files.",
                "The dataset link returns an error page.",
            ],
            foreign: &[
                "No puedo descargar el dataset.",
                "Meus arquivos do projeto sumiram.",
            ],
        },
        Symptom::BlankPage => Phrases {
            subjects: &[
                "blank page",
                "White screen",
                "dashboard not loading",
                "page is empty",
            ],
            bodies: &[
                "After logging in I just get a white page.",
                "The dashboard is completely blank, tried clearing cache.",
                "Site shows a blank screen, console says 'Loading chunk failed'.",
                "Nothing renders, just an empty white page.",
            ],
            foreign: &["La página sale en blanco.", "A página fica toda branca."],
        },
        Symptom::NoEmail => Phrases {
            subjects: &[
                "no reset email",
                "Didn't get the email",
                "password reset not arriving",
                "verification email",
            ],
            bodies: &[
                "I requested a password reset 3 times and got no email.",
                "The verification email never arrives, checked spam too.",
                "I'm not receiving any emails from you.",
            ],
            foreign: &["No me llega el correo para cambiar la contraseña."],
        },
        Symptom::GithubLogin => Phrases {
            subjects: &[
                "GitHub login broken",
                "Sign in with GitHub fails",
                "can't log in with github",
            ],
            bodies: &[
                "Sign in with GitHub shows an error page.",
                "Logging in via GitHub fails with 'authentication error'.",
                "I always log in with GitHub and now it doesn't work.",
            ],
            foreign: &["No puedo entrar con GitHub."],
        },
        Symptom::DnsFailure => Phrases {
            subjects: &[
                "site unreachable",
                "This site can't be reached",
                "DNS error?",
                "can't find your site",
            ],
            bodies: &[
                "Chrome says 'This site can't be reached', DNS_PROBE_FINISHED_NXDOMAIN.",
                "The website doesn't load at all, server IP address could not be found.",
                "Firefox says 'Hmm. We're having trouble finding that site.'",
                "Your domain doesn't resolve for me, tried two networks.",
            ],
            foreign: &[
                "No se puede acceder al sitio.",
                "Não é possível acessar esse site.",
            ],
        },
        Symptom::SslError => Phrases {
            subjects: &[
                "SSL error",
                "Invalid SSL certificate error",
                "connection not secure",
                "Error 526",
            ],
            bodies: &[
                "I get 'Error 526 Invalid SSL certificate' from Cloudflare on your site.",
                "Browser says the connection is not secure / SSL handshake failed.",
                "Cloudflare page says invalid SSL certificate, can't get to my course.",
            ],
            foreign: &[
                "Me sale un error de certificado SSL.",
                "Erro de certificado SSL no site.",
            ],
        },
        Symptom::EdgeError => Phrases {
            subjects: &[
                "Cloudflare error",
                "Error 522",
                "Connection timed out error",
                "web server is down?",
            ],
            bodies: &[
                "I get a Cloudflare error page when I open the site.",
                "Your site shows 'Error 522 Connection timed out' from Cloudflare.",
                "Cloudflare says 'Web server is returning an unknown error' (520).",
                "Error 524 a timeout occurred, every time I open a lesson.",
                "Some pages load, others give a Cloudflare error.",
            ],
            foreign: &[
                "Me aparece un error de Cloudflare.",
                "Aparece erro 522 da Cloudflare.",
            ],
        },
    }
}

const GREETINGS: &[&str] = &[
    "Hi,",
    "Hello,",
    "Hey team,",
    "Hi there!",
    "",
    "",
    "Good morning,",
];
const CLOSINGS: &[&str] = &[
    "Thanks",
    "Thank you!",
    "Please help.",
    "",
    "",
    "Any update?",
    "thx",
];

/// A customer writing about `symptom`: `(subject, body)`.
pub(crate) fn report(rng: &mut Rng, symptom: Symptom) -> (String, String) {
    let phrases = phrases(symptom);
    let subject = rng.pick(phrases.subjects).to_string();
    if rng.chance(0.12) {
        return (subject, rng.pick(phrases.foreign).to_string());
    }
    let core = rng.choose(phrases.bodies);
    let mut body = String::with_capacity(160);
    let greeting = rng.choose(GREETINGS);
    if !greeting.is_empty() {
        body.push_str(greeting);
        body.push(' ');
    }
    body.push_str(core);
    let closing = rng.choose(CLOSINGS);
    if !closing.is_empty() {
        body.push(' ');
        body.push_str(closing);
    }
    (subject, maybe_typos(rng, body))
}

/// A short Slack message about `symptom` in the community help channel.
pub(crate) fn slack_report(rng: &mut Rng, symptom: Symptom) -> String {
    let phrases = phrases(symptom);
    if rng.chance(0.12) {
        return rng.pick(phrases.foreign).to_string();
    }
    let text = if rng.chance(0.4) {
        format!("{}?", rng.pick(phrases.subjects))
    } else {
        rng.pick(phrases.bodies).to_string()
    };
    maybe_typos(rng, text)
}

/// Everyday questions unrelated to any incident.
const EVERYDAY: &[(&str, &str)] = &[
    (
        "Refund request",
        "Hi, I was charged for the annual plan but I meant monthly. Can I get a refund?",
    ),
    (
        "Invoice for my company",
        "Could you send an invoice with my company's VAT number?",
    ),
    (
        "change plan",
        "How do I switch from monthly to annual billing?",
    ),
    (
        "Mistake in mission",
        "In the SQL joins mission, screen 4, the expected output seems wrong.",
    ),
    (
        "typo in lesson",
        "There's a typo in the pandas lesson: 'dataframe.gruopby'.",
    ),
    (
        "Certificate name",
        "My name on the certificate is misspelled, can you fix it?",
    ),
    (
        "Question about the Data Engineer path",
        "Is the Data Engineer path still being updated?",
    ),
    ("student discount", "Do you have a discount for students?"),
    (
        "Cancel subscription",
        "Please cancel my subscription at the end of the period.",
    ),
    (
        "Python version",
        "Which Python version do the exercises use?",
    ),
    (
        "Guided project help",
        "I'm stuck on the guided project step 6, can someone give me a hint?",
    ),
    ("change email", "How can I change the email on my account?"),
    (
        "team plan",
        "We'd like to buy 12 seats for our analytics team. Who should I talk to?",
    ),
];

pub(crate) fn everyday_question(rng: &mut Rng) -> (String, String) {
    let (subject, body) = rng.choose(EVERYDAY);
    (subject.to_string(), maybe_typos(rng, body.to_string()))
}

const EVERYDAY_SLACK: &[&str] = &[
    "anyone doing the statistics path? looking for a study buddy",
    "how long did the data analyst path take you?",
    "is there a way to download my notebook from the guided project?",
    "finished my first project today!! 🎉",
    "can someone explain why my groupby returns NaN?",
    "which path should I take after Python basics?",
    "the new SQL course is great btw",
    "is the certificate recognized by employers?",
];

pub(crate) fn everyday_slack(rng: &mut Rng) -> String {
    let text = rng.pick(EVERYDAY_SLACK).to_string();
    maybe_typos(rng, text)
}

/// Staff talk that has nothing to do with incidents.
const STAFF_EVERYDAY: &[&str] = &[
    "standup in 5",
    "PR for the new onboarding flow is up, reviews welcome",
    "anyone know why CI is slow today? builds take 20min",
    "lunch?",
    "merged the pandas 2 upgrade, keep an eye on the notebook tests",
    "I'll be out tomorrow afternoon",
    "can someone look at the flaky test in test_progress.py",
    "new mission content goes live Thursday",
    "bumped the runner image to the November base",
    "reminder: retro at 4pm",
    "who owns the leaderboard cron?",
];

pub(crate) fn staff_everyday(rng: &mut Rng) -> String {
    rng.pick(STAFF_EVERYDAY).to_string()
}

/// Staff noticing and discussing a failure: they talk about what they see.
pub(crate) fn staff_incident(rng: &mut Rng, symptom: Symptom, stage: ChatterStage) -> String {
    let lines: &[&str] = match stage {
        ChatterStage::Noticed => match symptom {
            Symptom::Slow => &[
                "is the site slow for anyone else?",
                "p95 latency alert firing, pages are crawling",
                "getting complaints that everything is slow",
            ],
            Symptom::CodeStuck => &[
                "code runs seem stuck for users",
                "runner alerts firing, code runs timing out?",
                "several people in #help say code won't run",
            ],
            Symptom::PaymentFailed => &[
                "checkout errors spiking",
                "users say payments fail",
                "billing alert just fired",
            ],
            Symptom::BlankPage => &[
                "dashboard is blank for me after the frontend deploy?",
                "getting white page reports",
                "sentry JS errors exploding",
            ],
            Symptom::CantLogin => &[
                "users can't log in",
                "login is broken?",
                "anyone else getting logged out?",
            ],
            Symptom::NoEmail => &["password reset emails not going out?", "email alert firing"],
            Symptom::GithubLogin => &["github login broken for users", "oauth callback erroring"],
            _ => &[
                "anyone else seeing 500s?",
                "site down?",
                "pages firing, looking",
                "lots of errors in sentry right now",
                "getting alerts, is something broken?",
            ],
        },
        ChatterStage::Investigating => &[
            "looking into it",
            "on it, checking datadog",
            "starting a hangout, join if you can",
            "checking sentry and the k8s dashboard",
            "I'll message users in #help",
            "investigating, will update in 15",
        ],
        ChatterStage::Recovered => &[
            "looks like it's recovering",
            "errors back to normal",
            "things look good now, will keep watching",
            "recovered, writing up a timeline",
        ],
    };
    rng.pick(lines).to_string()
}

/// Where the team is in handling a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChatterStage {
    Noticed,
    Investigating,
    Recovered,
}

/// Roughly one message in five has a slip: swapped or dropped letters, or no capitals.
fn maybe_typos(rng: &mut Rng, text: String) -> String {
    let draw = rng.unit();
    if draw < 0.08 {
        return text.to_lowercase().replace(['.', '?', '!', ','], "");
    }
    if draw > 0.22 {
        return text;
    }
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() < 6 {
        return text;
    }
    let at = 1 + rng.index(chars.len() - 3);
    if !chars[at].is_alphabetic() || !chars[at + 1].is_alphabetic() {
        return text;
    }
    if rng.chance(0.5) {
        chars.swap(at, at + 1);
    } else {
        chars.remove(at);
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_vary_and_are_not_empty() {
        let mut rng = Rng::new("t", 3, "texts");
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            let (subject, body) = report(&mut rng, Symptom::CantLogin);
            assert!(!subject.is_empty() && !body.is_empty());
            seen.insert(body);
        }
        assert!(seen.len() > 10);
    }
}
