//! The processor contract (lathe-testkit) for every processor of lathe-dynamics, mono and
//! stereo, at 44.1 / 48 / 96 / 192 kHz.
//!
//! Impulse amplitude and latency check, per processor:
//! - Compressor / expander: the default impulse (0.25) is above the compressor's threshold and
//!   the expander's, so the gain at the impulse is a smoothed one: it scales the impulse but
//!   cannot move it, and `LatencyCheck::Peak` applies (the lookahead delay is the latency).
//! - Limiter: impulse 0.25 (-12 dBFS), well under the ceilings used, so the limiter is an exact
//!   delay and its peak sits at `latency()`.
//! - Saturation: impulse 0.25 at moderate drive; the oversampling filters are linear-phase, so
//!   the response peaks at their centre, `latency()`.

use lathe_dynamics::{
    Compressor, CompressorParams, DetectorKind, Expander, ExpanderParams, Limiter, LimiterParams,
    MasteringLimiter, Saturation, SaturationCurve, SaturationParams,
};
use lathe_testkit::{contract_tests, ContractOptions};

lathe_testkit::install_counting_allocator!();

contract_tests!(compressor_default, |fs| Compressor::<CH>::new(
    CompressorParams::default()
));

contract_tests!(compressor_full_options, |fs| Compressor::<CH>::new(
    CompressorParams {
        threshold_db: -30.0,
        ratio: 6.0,
        knee_db: 12.0,
        attack_ms: 1.0,
        release_ms: 50.0,
        makeup_db: 3.0,
        auto_makeup: true,
        mix: 0.6,
        link: 0.5,
        sidechain_hpf_hz: Some(120.0),
        lookahead_ms: 3.0,
        detector: DetectorKind::Rms,
        rms_window_ms: 5.0,
        adaptive_release: true,
    }
));

contract_tests!(compressor_instant_unlinked, |fs| Compressor::<CH>::new(
    CompressorParams {
        threshold_db: -6.0,
        ratio: 100.0,
        knee_db: 0.0,
        attack_ms: 0.0,
        release_ms: 0.0,
        link: 0.0,
        lookahead_ms: 10.0,
        ..CompressorParams::default()
    }
));

contract_tests!(expander_default, |fs| Expander::<CH>::new(
    ExpanderParams::default()
));

contract_tests!(gate_with_lookahead, |fs| Expander::<CH>::new(
    ExpanderParams {
        threshold_db: -30.0,
        ratio: 100.0,
        range_db: 80.0,
        hysteresis_db: 6.0,
        hold_ms: 5.0,
        attack_ms: 0.1,
        release_ms: 20.0,
        link: 0.3,
        sidechain_hpf_hz: Some(80.0),
        lookahead_ms: 1.0,
        detector: DetectorKind::Peak,
        ..ExpanderParams::default()
    }
));

contract_tests!(limiter_true_peak, |fs| MasteringLimiter::<CH>::new(
    LimiterParams::default()
));

contract_tests!(limiter_sample_peak, |fs| MasteringLimiter::<CH>::new(
    LimiterParams {
        ceiling_db: -6.0,
        true_peak: false,
        lookahead_ms: 5.0,
        release_ms: 20.0,
    }
));

contract_tests!(limiter_short_lookahead, |fs| Limiter::<CH, 512>::new(
    LimiterParams {
        ceiling_db: -3.0,
        true_peak: true,
        lookahead_ms: 0.5,
        release_ms: 200.0,
    }
));

contract_tests!(saturation_default, |fs| Saturation::<CH>::new(
    SaturationParams::default()
));

contract_tests!(
    saturation_tube_8x_biased_mix,
    |fs| Saturation::<CH>::new(SaturationParams {
        curve: SaturationCurve::Tube,
        drive_db: 6.0,
        bias: 0.5,
        mix: 0.7,
        oversampling: 8,
        output_db: -2.0,
    }),
    ContractOptions {
        impulse_amp: 0.1,
        ..ContractOptions::default()
    }
);

contract_tests!(saturation_softclip_2x, |fs| Saturation::<CH>::new(
    SaturationParams {
        curve: SaturationCurve::SoftClip,
        drive_db: 12.0,
        oversampling: 2,
        ..SaturationParams::default()
    }
));

contract_tests!(saturation_tanh_1x, |fs| Saturation::<CH>::new(
    SaturationParams {
        curve: SaturationCurve::Tanh,
        oversampling: 1,
        ..SaturationParams::default()
    }
));
