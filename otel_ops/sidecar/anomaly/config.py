"""Configuration of the streaming detectors: plain, validated settings objects that build a detector."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Direction = Literal["both", "up", "down"]


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CalibrationConfig(_Settings):
    """How raw surprises become 0..1 scores (shared by the statistical detectors)."""

    history_points: int = Field(720, ge=32, description="Past surprises kept to estimate their tail.")
    warmup_points: int = Field(144, ge=16, description="Points seen before any non-zero score is emitted.")
    tail_fraction: float = Field(0.05, gt=0.0, lt=0.5, description="Share of history treated as the tail.")
    full_scale_log10: float = Field(
        8.0, gt=0.0, description="A tail probability of 10**-full_scale_log10 or less scores 1.0."
    )
    block_points: int = Field(
        1,
        ge=1,
        description="Surprises per history entry: the history keeps the largest of each block, and a"
        " surprise's probability is converted back to one point's.",
    )


class SeasonalConfig(_Settings):
    """Robust seasonal baseline: same time of day / week, median over recent cycles plus a level offset."""

    periods_seconds: tuple[int, ...] = Field((86_400, 604_800), description="Seasonal periods to model.")
    slot_seconds: int = Field(1800, ge=1, description="Width of one time-of-period slot.")
    cycles_kept: int = Field(3, ge=1, description="Past cycles kept per slot.")
    min_cycles: int = Field(2, ge=1, description="Cycles a slot must have seen before it forecasts.")
    max_values_per_slot: int = Field(64, ge=1)
    learn_seconds: float = Field(
        450.0,
        gt=0.0,
        description="Points within one such interval are learnt as one value, their median: a slot keeps as"
        " many values per cycle on 1-minute points as on 5-minute ones.",
    )
    level_points: int = Field(6, ge=1, description="Recent points in the robust level offset.")
    error_points: int = Field(288, ge=16, description="Recent forecast errors used for the robust scale.")
    block_points: int = Field(
        1,
        ge=1,
        description="Points per entry of the forecast errors' windows (the median of a block): on steps finer"
        " than the reference step, so the windows keep as many entries as on the reference step.",
    )
    selection_half_life_points: float = Field(
        288.0, gt=0.0, description="Half-life of the error average that picks the best baseline."
    )
    band_z: float = Field(3.0, gt=0.0, description="Half-width of the expected band, in robust scales.")
    direction: Direction = "both"
    calibration: CalibrationConfig = CalibrationConfig()

    @model_validator(mode="after")
    def _periods_hold_slots(self) -> SeasonalConfig:
        short = [period for period in self.periods_seconds if period < self.slot_seconds]
        if short:
            raise ValueError(
                f"periods_seconds {short} shorter than slot_seconds ({self.slot_seconds}): a period is cut"
                " into slots, so each must be at least one slot long (86400 for a day, 604800 for a week)"
            )
        return self


class SpikeConfig(_Settings):
    """Fast detector: one-step spikes against a short median, and level shifts against a longer reference."""

    level_points: int = Field(5, ge=1, description="Recent points whose median is the one-step forecast.")
    error_points: int = Field(288, ge=16, description="Recent forecast errors used for the robust scale.")
    shift_points: int = Field(6, ge=2, description="Recent points whose median is compared for a shift.")
    reference_points: int = Field(288, ge=16, description="Points before those, forming the reference.")
    block_points: int = Field(
        1,
        ge=1,
        description="Points per entry of the error and reference windows (the median of a block): on steps"
        " finer than the reference step, so the windows keep as many entries as on the reference step.",
    )
    band_z: float = Field(3.0, gt=0.0)
    direction: Direction = "both"
    calibration: CalibrationConfig = CalibrationConfig()


class NoveltyConfig(_Settings):
    """Value novelty: how far a new value lies from every value seen over a recent window."""

    window_points: int = Field(
        2016, ge=16, description="Recent values a new one is compared with (a week of 5-minute points)."
    )
    min_points: int = Field(
        288, ge=1, description="Values seen before anything is scored (a day of 5-minute points)."
    )
    direction: Direction = Field(
        "both", description="'up': only values above the window's median count; 'down': only below."
    )
    record_run_points: int = Field(
        12,
        ge=1,
        description="Records (values beyond every value of the window) within this many points are judged "
        "together (an hour of 5-minute points).",
    )
    calibration: CalibrationConfig = CalibrationConfig(history_points=2016, warmup_points=288)


class PatternConfig(_Settings):
    """Pattern novelty: the shape of the last few hours against the shapes seen before."""

    step_points: int = Field(
        5, ge=1, description="Points per step; a step keeps its most extreme value, so a spike survives."
    )
    window_steps: int = Field(
        8, ge=2, description="Steps per shape, a power of two (8 x 5 five-minute points: 3h20)."
    )
    range_points: int = Field(
        1000, ge=16, description="Recent points whose value range is the unit of shape distances."
    )
    vigilance: float = Field(
        0.1,
        gt=0.0,
        le=1.0,
        description="A shape joins a known pattern while the pattern's extent stays within this share of "
        "the range per dimension; otherwise it starts a new pattern.",
    )
    quiet_steps: int = Field(
        12, ge=0, description="Steps after a notable new pattern during which no other counts..."
    )
    notable_probability: float = Field(
        0.05, gt=0.0, le=1.0, description="...notable: its per-step tail probability is at most this."
    )
    max_patterns: int = Field(256, ge=8, description="Patterns kept (the least recently seen is dropped).")
    min_points: int = Field(288, ge=1, description="Points seen before a new pattern counts (a day).")
    calibration: CalibrationConfig = CalibrationConfig(history_points=720, warmup_points=48)

    @field_validator("window_steps")
    @classmethod
    def _power_of_two(cls, steps: int) -> int:
        if steps & (steps - 1):
            raise ValueError(
                f"must be a power of two (a shape is halved down to one level), such as"
                f" {1 << (steps.bit_length() - 1)} or {1 << steps.bit_length()}"
            )
        return steps


class AbsenceConfig(_Settings):
    """Absence: a bursty series silent for longer than its recent bursts make likely."""

    window_points: int = Field(
        2016,
        ge=16,
        description="Recent values that define the usual level and bursts (a week of 5-minute points).",
    )
    min_points: int = Field(288, ge=16, description="Values seen before anything is scored (a day).")
    high_quantile: float = Field(
        0.99, gt=0.5, lt=1.0, description="Quantile that stands for a burst's height."
    )
    burst_contrast: float = Field(
        10.0, gt=0.0, description="Bursty: that quantile is this many interquartile ranges above the median."
    )
    active_fraction: float = Field(
        0.5, gt=0.0, lt=1.0, description="A point is active this far from the median towards burst height."
    )
    max_active_share: float = Field(
        0.5, gt=0.0, le=1.0, description="Bursty only while at most this share of the window is active."
    )
    reference_bursts: int = Field(8, ge=2, description="Recent bursts whose spacing sets the expected rate.")
    min_reference_bursts: int = Field(3, ge=1, description="Bursts needed before a silence is judged.")
    level_scale: Literal["linear", "log"] = Field(
        "linear",
        description="'linear': a point is active active_fraction of the way from the median to burst "
        "height (large bursts); 'log': that far on a log scale from the quiet spread to burst height "
        "(any activity clearly above the quiet level, however small the burst).",
    )
    report_growth: float = Field(
        2.0, gt=1.0, description="A silence reports when it starts and each time its length grew this much."
    )
    calibration: CalibrationConfig = CalibrationConfig(history_points=64, warmup_points=16)


class FrozenConfig(_Settings):
    """Frozen value: the same value repeated for longer than the series' own runs of repeats make likely."""

    window_points: int = Field(
        2016,
        ge=16,
        description="Recent points whose runs of repeated values calibrate (a week of 5-minute points).",
    )
    min_points: int = Field(288, ge=16, description="Points seen before anything is scored (a day).")
    min_run_points: int = Field(
        3,
        ge=2,
        description="Runs shorter than this are never judged (15 minutes of 5-minute points: a value "
        "exported twice in a row is a hiccup, not a frozen gauge).",
    )
    longer_than_longest: float = Field(
        2.0,
        ge=1.0,
        description="A run is judged only once it is this many times longer than the longest finished run "
        "of the window: far longer than the series' own repeats, not a new record by a point or two.",
    )
    max_repeat_share: float = Field(
        0.5,
        gt=0.0,
        lt=1.0,
        description="Judged only while at most this share of the window repeats the previous value (a series "
        "that normally changes; never flat lines or counters that mostly sit at zero).",
    )
    tail_runs: int = Field(
        8, ge=1, description="Longest past runs whose lengths set how fast a long run becomes unlikely."
    )
    full_scale_log10: float = Field(
        8.0, gt=0.0, description="A tail probability of 10**-full_scale_log10 or less scores 1.0."
    )


class ScheduleConfig(_Settings):
    """Missed runs: a job whose runs come on a schedule stops running (judged on the activity absence
    detector's runs; off when that detector is)."""

    min_runs: int = Field(
        24,
        ge=3,
        description="Runs on schedule seen before a schedule is trusted, and slots seen before a missed run "
        "is judged (a day of an hourly job).",
    )
    on_schedule_share: float = Field(
        0.9, gt=0.5, le=1.0, description="Share of the recent runs that must start in the schedule's slot."
    )
    full_scale_log10: float = Field(
        8.0, gt=0.0, description="A tail probability of 10**-full_scale_log10 or less scores 1.0."
    )


class ExhaustionConfig(_Settings):
    """Linear-trend exhaustion forecast (Prometheus ``predict_linear`` with guards)."""

    limit: float = Field(description="Value that must not be crossed (e.g. memory limit, 0 bytes free).")
    direction: Literal["up", "down"] = Field("up", description="'up': rising towards limit; 'down': falling.")
    horizon_seconds: float = Field(4 * 3600.0, gt=0.0, description="Alert when the crossing is this close.")
    window_seconds: float = Field(6 * 3600.0, gt=0.0, description="Span of history the trend is fitted on.")
    min_points: int = Field(12, ge=3)
    min_coverage: float = Field(
        0.5, gt=0.0, le=1.0, description="Share of window_seconds the points must span before forecasting."
    )
    min_r_squared: float = Field(0.6, ge=0.0, le=1.0, description="Minimum fit quality to trust the trend.")


class EnsembleConfig(_Settings):
    """The sidecar's default detector: seasonal + spike/shift + value and pattern novelty + absence of
    bursts (large bursts, and any activity above the quiet level) + frozen values, optionally an
    exhaustion forecast."""

    seasonal: SeasonalConfig | None = SeasonalConfig()
    spike: SpikeConfig | None = SpikeConfig()
    novelty: NoveltyConfig | None = NoveltyConfig()
    pattern: PatternConfig | None = PatternConfig()
    absence: AbsenceConfig | None = AbsenceConfig()
    activity_absence: AbsenceConfig | None = AbsenceConfig(level_scale="log")
    frozen: FrozenConfig | None = FrozenConfig()
    missed_runs: ScheduleConfig | None = ScheduleConfig()
    exhaustion: ExhaustionConfig | None = None
    alert_score: float = Field(0.5, ge=0.0, le=1.0, description="Score at or above which a point alerts.")
    repeat_window_points: int = Field(
        144, ge=0, description="A score that does not exceed the highest of this many previous scores..."
    )
    repeat_damping: float = Field(
        0.5, ge=0.0, le=1.0, description="...is multiplied by this: one alert per episode, not one per point."
    )
    refractory_points: int = Field(
        144,
        ge=0,
        description="After a point alerts, the statistical score of this many following points (half a day "
        "of 5-minute points)...",
    )
    refractory_damping: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="...is multiplied by this (an incident alerts once, then goes quiet).",
    )
    full_scale_log10: float = Field(8.0, gt=0.0, description="Log10 tail probability that scores 1.0.")
    reference_step_seconds: float = Field(
        300.0,
        gt=0.0,
        description="Step the default point counts are stated for (288 points = a day of 5-minute points). "
        "On a series with another step, settings left at their defaults are scaled to span the same time; "
        "settings given explicitly are used as given.",
    )

    @model_validator(mode="after")
    def _needs_a_detector(self) -> EnsembleConfig:
        # Every field holding a settings object is a detector's; None leaves that detector out.
        if not any(isinstance(getattr(self, name), BaseModel) for name in type(self).model_fields):
            raise ValueError("an ensemble needs at least one detector")
        return self
