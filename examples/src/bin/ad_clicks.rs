//! The Structured Streaming guide's stream-stream join with `stream!` (the twin of
//! `examples/ad_clicks.yaml`): ad impressions and clicks, each with a watermark, joined on the ad
//! with a time range; a left outer join writes an impression nobody clicked with NULL click
//! columns once the watermarks prove no click can come.

use streamc_runtime::prelude::*;

fn main() -> Result<(), Error> {
    let app = stream! {
        app_name("ad_clicks");
        trigger(AvailableNow);
        checkpoint("target/ad_clicks-macro-checkpoint");
        let impressions = read_stream
            .json("examples/data/ad_clicks/impressions")
            .schema("adId STRING, impressionTime TIMESTAMP")
            .max_files_per_trigger(1);
        let clicks = read_stream
            .json("examples/data/ad_clicks/clicks")
            .schema("adId STRING, clickTime TIMESTAMP")
            .max_files_per_trigger(1)
            .with_watermark("clickTime", "5 minutes")
            .select(["adId AS clickAdId", "clickTime"]);
        let attributed_clicks = impressions
            .with_watermark("impressionTime", "10 minutes")
            .select(["adId AS impressionAdId", "impressionTime"])
            .join(
                clicks,
                expr("clickAdId = impressionAdId AND clickTime >= impressionTime AND clickTime <= impressionTime + INTERVAL 15 MINUTES"),
                "left_outer",
            );
        attributed_clicks.write_stream().output_mode("append").console();
    };
    app.with_cli_args()?.start()?.await_termination()
}
