//! Every HTTP sink at once, each pointed at its contract fake (and the OTLP
//! exporter at a bare recording server), so an end-to-end test can search
//! what the sinks actually put on the wire.

use cairn_testkit::siem::{
    Answer, FakeServer, datadog::DatadogFake, elastic::ElasticFake, sentinel,
    sentinel::SentinelFake, splunk_hec::SplunkFake, sumo::SumoFake,
};

const SPLUNK_TOKEN: &str = "00000000-1111-2222-3333-444444444444";
const SUMO_TOKEN: &str = "ZaVnC4dhaV3Sumo";
const ELASTIC_KEY: &str = "ZWxhc3RpYzpzZWNyZXQ=";
const DATADOG_KEY: &str = "0123456789abcdef0123456789abcdef";

pub struct TestSinks {
    pub splunk: SplunkFake,
    pub sumo: SumoFake,
    pub elastic: ElasticFake,
    pub datadog: DatadogFake,
    pub sentinel: SentinelFake,
    pub otlp: FakeServer,
}

impl TestSinks {
    pub async fn start() -> TestSinks {
        TestSinks {
            splunk: SplunkFake::builder().token(SPLUNK_TOKEN).start().await,
            sumo: SumoFake::builder().token(SUMO_TOKEN).start().await,
            elastic: ElasticFake::builder().api_key(ELASTIC_KEY).start().await,
            datadog: DatadogFake::builder().api_key(DATADOG_KEY).start().await,
            sentinel: SentinelFake::builder().start().await,
            otlp: FakeServer::start(|_: &cairn_testkit::siem::Request| Answer::empty(200)).await,
        }
    }

    /// `[[sinks]]` tables sending every record type to every fake.
    pub fn config(&self) -> String {
        let route = "[sinks.route]\nrecords = [\"events\", \"chains\", \"metrics\", \"spans\"]\n\
                     [sinks.delivery]\nmax_delay_ms = 50\nretry_initial_ms = 20\n";
        format!(
            "[[sinks]]\nname = \"otlp\"\n{route}[sinks.otlp]\nendpoint = \"{otlp}\"\nprotocol = \"http/protobuf\"\n\n\
             [[sinks]]\nname = \"splunk\"\n{route}[sinks.splunk_hec]\nurl = \"{splunk}\"\ntoken = \"{SPLUNK_TOKEN}\"\n\n\
             [[sinks]]\nname = \"sumo\"\n{route}[sinks.sumo]\nurl = \"{sumo}\"\n\n\
             [[sinks]]\nname = \"elastic\"\n{route}[sinks.elastic]\nurl = \"{elastic}\"\napi_key = \"{ELASTIC_KEY}\"\n\n\
             [[sinks]]\nname = \"datadog\"\n{route}[sinks.datadog]\nurl = \"{datadog}\"\napi_key = \"{DATADOG_KEY}\"\n\n\
             [[sinks]]\nname = \"sentinel\"\n{route}[sinks.sentinel]\nendpoint = \"{sentinel}\"\nauthority = \"{sentinel}\"\n\
             dcr_immutable_id = \"{dcr}\"\nstream = \"{stream}\"\ntenant_id = \"{tenant}\"\nclient_id = \"{client}\"\n\
             client_secret = \"{secret}\"\n",
            otlp = self.otlp.url(),
            splunk = self.splunk.url(),
            sumo = self.sumo.source_url(SUMO_TOKEN),
            elastic = self.elastic.url(),
            datadog = self.datadog.url(),
            sentinel = self.sentinel.url(),
            dcr = sentinel::DCR,
            stream = sentinel::STREAM,
            tenant = sentinel::TENANT,
            client = sentinel::CLIENT_ID,
            secret = sentinel::CLIENT_SECRET,
        )
    }

    /// Every request body each fake received (decoded when it was
    /// compressed), named by sink and request index.
    pub fn received(&self) -> Vec<(String, Vec<u8>)> {
        let all = [
            ("otlp", self.otlp.requests()),
            ("splunk", self.splunk.requests()),
            ("sumo", self.sumo.requests()),
            ("elastic", self.elastic.requests()),
            ("datadog", self.datadog.requests()),
            ("sentinel", self.sentinel.server().requests()),
        ];
        let mut out = Vec::new();
        for (sink, requests) in all {
            assert!(!requests.is_empty(), "the {sink} sink sent nothing");
            for r in requests {
                let body = r.body.clone().unwrap_or_else(|_| r.wire.to_vec());
                out.push((
                    format!("what the {sink} sink sent (request {})", r.index),
                    body,
                ));
            }
        }
        out
    }
}
