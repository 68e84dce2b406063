//! A live simulator keeps producing normal life as the wall clock passes; a fixed one does not.

use std::time::{Duration, Instant};

use faultline_sim::SimConfig;

async fn started(live: bool) -> faultline_sim::RunningSim {
    let mut config = SimConfig::new("database", 3);
    config.history = Duration::from_secs(3600);
    config.live = live;
    faultline_sim::start(config)
        .await
        .expect("the simulator starts")
}

#[tokio::test]
async fn a_live_simulator_grows_and_a_fixed_one_does_not() {
    let live = started(true).await;
    let fixed = started(false).await;
    let (live_at_start, fixed_at_start) = (live.served().total.exists, fixed.served().total.exists);
    assert!(live_at_start > 0 && fixed_at_start > 0);
    let began = Instant::now();
    while live.served().total.exists <= live_at_start {
        assert!(
            began.elapsed() < Duration::from_secs(120),
            "no new item appeared in a live simulator"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(fixed.served().total.exists, fixed_at_start);
}
