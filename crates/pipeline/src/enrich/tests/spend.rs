//! Spend totals: delta sums, resends, cumulative running totals, labels.

use super::*;

const USD: &str = "cairn_spend_usd_total";

const TOKENS: &str = "cairn_spend_tokens_total";

#[test]
fn spend_from_the_fixture_by_cost_center_and_model() {
    let mut batch = fixture_batch("http-protobuf", Signal::Metrics);
    enricher(None, DirectoryKey::Email, None).enrich(&mut batch);
    let mut meter = SpendMeter::new(false);
    meter.observe(&batch);
    let text = scrape(|r| meter.register(r));
    let usd = format!("{USD}{{cost_center=\"eng-123\",model=\"claude-opus-5-5\"}}");
    assert_eq!(sample(&text, &usd), Some(0.014752), "{text}");
    let input =
        format!("{TOKENS}{{cost_center=\"eng-123\",model=\"claude-opus-5-5\",type=\"input\"}}");
    assert_eq!(sample(&text, &input), Some(2468.0), "{text}");
    assert!(
        !text.contains("user="),
        "per-user labels are off by default"
    );

    // The same request again (a client retry) adds nothing.
    meter.observe(&batch);
    let text = scrape(|r| meter.register(r));
    assert_eq!(sample(&text, &usd), Some(0.014752));
    assert_eq!(sample(&text, &input), Some(2468.0));
    assert_eq!(
        sample(&text, "cairn_spend_duplicate_points_total"),
        Some(5.0)
    );
}

#[test]
fn spend_from_the_cumulative_fixture_is_counted_once() {
    let batch = fixture_batch("http-protobuf-cumulative", Signal::Metrics);
    let cost: f64 = points_of(&batch, "claude_code.cost.usage")
        .iter()
        .map(|p| match p.value {
            Some(number_data_point::Value::AsDouble(d)) => d,
            _ => 0.0,
        })
        .sum();
    assert!(cost > 0.0);
    let mut meter = SpendMeter::new(false);
    meter.observe(&batch);
    meter.observe(&batch);
    let text = scrape(|r| meter.register(r));
    let total: f64 = text
        .lines()
        .filter(|l| l.starts_with(USD))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!((total - cost).abs() < 1e-12, "{total} vs {cost}\n{text}");
}

fn cost_point(start: u64, time: u64, value: f64) -> NumberDataPoint {
    point(
        &[
            ("cost_center", "cc"),
            ("model", "m"),
            ("session.id", "s1"),
            ("user.id", "u1"),
        ],
        start,
        time,
        value,
    )
}

fn cost_batch(temporality: i32, points: Vec<NumberDataPoint>) -> Batch {
    metrics(
        &[("service.name", "claude-code")],
        vec![sum("claude_code.cost.usage", temporality, points)],
    )
}

fn usd(meter: &SpendMeter) -> Option<f64> {
    let text = scrape(|r| meter.register(r));
    sample(&text, &format!("{USD}{{cost_center=\"cc\",model=\"m\"}}"))
}

#[test]
fn delta_points_add_up_and_resends_count_once() {
    let mut meter = SpendMeter::new(false);
    let first = cost_batch(
        DELTA,
        vec![cost_point(0, 10, 0.25), cost_point(10, 20, 0.5)],
    );
    meter.observe(&first);
    assert_eq!(usd(&meter), Some(0.75));
    meter.observe(&first);
    assert_eq!(
        usd(&meter),
        Some(0.75),
        "a batch observed twice counts once"
    );
    // A new interval with the same value is new spend.
    meter.observe(&cost_batch(DELTA, vec![cost_point(20, 30, 0.5)]));
    assert_eq!(usd(&meter), Some(1.25));
    // A resend enriched differently (a directory reload in between) is
    // still the same point.
    let mut relabelled = cost_point(20, 30, 0.5);
    relabelled.attributes.push(kv_str(SOURCE, "directory"));
    meter.observe(&cost_batch(DELTA, vec![relabelled]));
    assert_eq!(usd(&meter), Some(1.25));
    let text = scrape(|r| meter.register(r));
    assert_eq!(
        sample(&text, "cairn_spend_duplicate_points_total"),
        Some(3.0)
    );
}

#[test]
fn cumulative_points_give_a_running_total_across_resets() {
    let mut meter = SpendMeter::new(false);
    let steps: [(u64, u64, f64, f64); 7] = [
        (100, 110, 1.0, 1.0),   // first point: all of it
        (100, 120, 2.5, 2.5),   // +1.5
        (100, 120, 2.5, 2.5),   // identical resend: +0
        (100, 115, 2.0, 2.5),   // older than the last seen: +0
        (100, 130, 4.0, 4.0),   // +1.5
        (200, 210, 0.5, 4.5),   // new start time (process restart): +0.5
        (200, 220, 0.25, 4.75), // value went down with the same start: reset, +0.25
    ];
    for (start, time, value, total) in steps {
        meter.observe(&cost_batch(
            CUMULATIVE,
            vec![cost_point(start, time, value)],
        ));
        assert_eq!(usd(&meter), Some(total), "after ({start}, {time}, {value})");
    }
    let text = scrape(|r| meter.register(r));
    assert_eq!(
        sample(&text, "cairn_spend_duplicate_points_total"),
        Some(2.0)
    );
}

#[test]
fn per_user_labels_only_when_asked_and_missing_cost_center_is_unassigned() {
    let batch = cost_batch(DELTA, vec![cost_point(0, 10, 1.0), point(&[], 0, 10, 2.0)]);
    let mut off = SpendMeter::new(false);
    off.observe(&batch);
    let text = scrape(|r| off.register(r));
    assert!(!text.contains("user="), "{text}");
    assert_eq!(
        sample(
            &text,
            &format!("{USD}{{cost_center=\"unassigned\",model=\"unknown\"}}")
        ),
        Some(2.0)
    );
    let mut on = SpendMeter::new(true);
    on.observe(&batch);
    let text = scrape(|r| on.register(r));
    assert_eq!(
        sample(
            &text,
            &format!("{USD}{{cost_center=\"cc\",model=\"m\",user=\"u1\"}}")
        ),
        Some(1.0),
        "{text}"
    );
}

#[test]
fn spend_memory_is_bounded() {
    let mut meter = SpendMeter::with_capacity(false, 10);
    for i in 0..100 {
        meter.observe(&cost_batch(DELTA, vec![cost_point(i, i + 1, 1.0)]));
        assert!(meter.remembered() <= 10);
    }
    assert_eq!(usd(&meter), Some(100.0));
    // The most recent points are still remembered.
    meter.observe(&cost_batch(DELTA, vec![cost_point(99, 100, 1.0)]));
    assert_eq!(usd(&meter), Some(100.0));
}
