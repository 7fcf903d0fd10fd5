"""Absence: the bursts a series keeps having stop coming."""

from __future__ import annotations

import math

from otel_ops.sidecar.anomaly.config import AbsenceConfig
from otel_ops.sidecar.anomaly.rolling import VALUES_TYPECODE, IntQueue, SortedWindow, sorted_window
from otel_ops.sidecar.anomaly.tail_calibration import TailCalibrator
from otel_ops.sidecar.anomaly.unbanded import UnbandedDetector

_GAP_BINS = 24  # log2 bins of the gap between active points: up to 2**24 points
MIN_BURST_SEPARATION_BINS = 1  # a gap twice another is one missed burst, not a second kind of gap


def otsu_split(counts: list[int]) -> int:
    """The bin ``b`` that best splits a histogram into bins ``<= b`` and ``> b`` (Otsu's method: the
    largest between-class variance). 0 for an empty histogram."""
    total = sum(counts)
    weighted_total = sum(k * c for k, c in enumerate(counts))
    best, best_bin, low_count, low_weighted = -1.0, 0, 0, 0.0
    for b, count in enumerate(counts[:-1]):
        low_count += count
        low_weighted += b * count
        high_count = total - low_count
        if low_count == 0 or high_count == 0:
            continue
        low_mean = low_weighted / low_count
        high_mean = (weighted_total - low_weighted) / high_count
        between = low_count * high_count * (low_mean - high_mean) ** 2
        if between > best:
            best, best_bin = between, b
    return best_bin


def within_burst_gap(gap_bins: list[int]) -> int:
    """The longest gap (in points) between active points of one burst, from the log2 histogram of gaps.

    Gaps inside bursts and gaps between them are told apart by Otsu's split when the activity has
    neighbouring points or the two kinds are more than ``MIN_BURST_SEPARATION_BINS`` apart on average.
    Otherwise the gaps are of one kind, a few points long or more, and every active point is a burst of its
    own: an hourly job on a 5-minute series, whose missed runs double a gap without making a second kind
    of gap.  Activity on neighbouring points only is one continuing burst."""
    populated = [b for b, count in enumerate(gap_bins) if count]
    if not populated:
        return 1
    if len(populated) > 1:
        split = otsu_split(gap_bins)
        low = sum(b * c for b, c in enumerate(gap_bins[: split + 1])) / sum(gap_bins[: split + 1])
        high = sum(b * c for b, c in enumerate(gap_bins) if b > split) / sum(gap_bins[split + 1 :])
        if populated[0] == 0 or high - low > MIN_BURST_SEPARATION_BINS:
            return 2 ** (split + 1) - 1
    if populated[0] == 0:
        return 1
    return 2 ** populated[0] - 1


class BurstAbsenceDetector(UnbandedDetector):
    """Scores a silence that lasts longer than the series' recent bursts make likely.

    When recurring activity stops (a batch job that no longer runs, traffic that no longer arrives) no
    value is unusual: the absence is. This detector only judges *bursty* series: over the last
    ``window_points`` values, the ``high_quantile`` must stand ``burst_contrast`` interquartile ranges above
    the median and quiet must be the usual state. A point is active above the median plus
    ``active_fraction`` of the way to that quantile (``level_scale="linear"``: large bursts), or of the way
    on a log scale from the quiet spread (the interquartile range, or ``height / burst_contrast ** 2`` when
    the quiet level has none) to that height (``"log"``: any activity clearly above the quiet level).  The
    two answer different questions: on a disk that is written in large bursts and in small writes
    between them, the large bursts can stop while small writes go on; on an hourly job whose run sizes
    vary by factors (heavy tails), half-way to the 99th percentile misses about one run in ten, so only
    the log-scale level sees every run and notices when they stop.  The default ensemble watches both.

    * Bursts come from the series itself: the gaps between active points are short inside a burst and long
      between bursts, and Otsu's method on their log2 histogram finds where one becomes the other, so "a
      burst" means the same on a 1-minute and a 1-hour series (:func:`within_burst_gap`; single-point
      bursts at a steady spacing, such as an hourly job on a 5-minute series, are bursts too).  The split
      is kept current with the histogram, so every silence is measured against the bursts of now.
    * Surprise: the last ``reference_bursts`` burst starts give ``n`` intervals spanning ``R`` points; the
      silence since the last start is ``L``. For bursts at an unknown steady rate the chance that an interval
      lasts at least ``L`` is ``(R / (R + L)) ** n``.
    * Bursts cluster, so that chance is calibrated against the series' own finished silences: the
      calibration history holds the largest surprise each silence reached (``calibration.history_points``
      silences, ``calibration.warmup_points`` of them before anything scores); a silence is never judged
      against itself.  Silences are told apart no more finely than the within-burst gap (a run starting a
      minute or two late is the same run), so a job whose silences are all alike does not make a silence
      a hair longer than all of them impossibly rare.
    * A silence is one slowly growing piece of evidence: it reports when it starts being surprising and
      then each time it has grown ``report_growth`` times longer and more surprising, not at every point.

    It gives no expected band.
    """

    def __init__(
        self, config: AbsenceConfig | None = None, name: str = "absence", values: SortedWindow | None = None
    ) -> None:
        """``values``: a window of ``config.window_points`` values kept by the caller, who adds each value
        once every detector sharing it has scored it; by default the detector keeps its own."""
        self.config = config or AbsenceConfig()
        self.full_scale_log10 = self.config.calibration.full_scale_log10
        self.name = name
        cfg = self.config
        self._owns_values = values is None
        self._values = sorted_window(cfg.window_points, VALUES_TYPECODE) if values is None else values
        self._calibrator = TailCalibrator.from_config(cfg.calibration)
        self._active = IntQueue()  # indices of the active points in the window, oldest first
        self._active_gaps = IntQueue("b")  # and the log2 bin of the gap before each, or -1
        self._gap_bins = [0] * _GAP_BINS
        self._last_active: int | None = None
        self._burst_starts: list[int] = []
        self._merge_gap = 1
        self._gaps_stale = False
        self._bursts_stale = True
        self._index = 0
        self._silence_peak = 0.0
        self._reported_evidence = 0.0
        self._reported_length = 0
        self._bursty = False

    @property
    def bursty(self) -> bool:
        """Whether the series was bursty at the last point scored (points can be active)."""
        return self._bursty

    @property
    def active_now(self) -> bool:
        """Whether the last point scored was active (above the burst level)."""
        return self._last_active is not None and self._last_active == self._index - 1

    def probability(self, timestamp: float, value: float) -> float:
        index = self._index
        self._index += 1
        self._forget_before(index - self.config.window_points)
        probability = 1.0
        level = self._active_level()
        self._bursty = level is not None
        value = self._values.kept(value)  # measured against the level as the window keeps it
        if level is not None:
            surprise = self._surprise(index)
            if surprise > 0.0:
                self._silence_peak = max(self._silence_peak, surprise)
                # Silences are told apart no more finely than the within-burst gap: a burst starting that
                # much later is the same burst.
                resolution = self._surprise(index + self._merge_gap + 1) - surprise
                probability = self._calibrator.tail_probability(surprise, resolution)
            if value > level:
                self._end_silence()
            probability = self._report(index, probability)
            if value > level:
                self._add_active(index)
        if self._owns_values:
            self._values.push(value)
        return probability

    def _active_level(self) -> float | None:
        """The level above which a point is active, or None while the series is not bursty."""
        cfg, values = self.config, self._values
        if len(values) < cfg.min_points or len(self._active) > cfg.max_active_share * len(values):
            return None
        median = values.median()
        height = values.quantile(cfg.high_quantile) - median
        spread = values.quantile(0.75) - values.quantile(0.25)
        if height <= 0.0 or height < cfg.burst_contrast * spread:
            return None
        if cfg.level_scale == "log":
            quiet = max(spread, height / cfg.burst_contrast**2)
            return median + quiet ** (1.0 - cfg.active_fraction) * height**cfg.active_fraction
        return median + cfg.active_fraction * height

    def _surprise(self, index: int) -> float:
        """-log10 of the chance of a silence this long at the recent burst rate (0 inside a burst)."""
        if self._gaps_stale:
            self._refresh_merge_gap()
        if self._last_active is None or index - self._last_active <= self._merge_gap:
            return 0.0
        if self._bursts_stale:
            self._find_bursts()
        reference = self._burst_starts[-(self.config.reference_bursts + 1) :]
        intervals = len(reference) - 1
        if intervals < self.config.min_reference_bursts:
            return 0.0
        span = reference[-1] - reference[0]
        return -intervals * math.log10(span / (span + index - reference[-1]))

    def _report(self, index: int, probability: float) -> float:
        """``probability`` when this silence reports now, else 1.0."""
        if probability >= 1.0 or self._last_active is None:
            return 1.0
        length = index - self._last_active
        evidence = -math.log10(probability)
        grown = self._reported_length == 0 or length >= self.config.report_growth * self._reported_length
        if grown and evidence > self._reported_evidence:
            self._reported_evidence, self._reported_length = evidence, length
            return probability
        return 1.0

    def _end_silence(self) -> None:
        if self._silence_peak > 0.0:
            self._calibrator.observe(self._silence_peak)
        self._silence_peak = 0.0
        self._reported_evidence = 0.0
        self._reported_length = 0

    def _add_active(self, index: int) -> None:
        gap_bin = -1
        if self._last_active is not None:
            gap_bin = min(_GAP_BINS - 1, int(math.log2(index - self._last_active)))
            self._gap_bins[gap_bin] += 1
            self._gaps_stale = True
        self._active.append(index)
        self._active_gaps.append(gap_bin)
        self._last_active = index
        self._bursts_stale = True

    def _forget_before(self, horizon: int) -> None:
        while self._active and self._active.first() < horizon:
            self._active.popleft()
            gap_bin = self._active_gaps.popleft()
            if gap_bin >= 0:
                self._gap_bins[gap_bin] -= 1
                self._gaps_stale = True
            self._bursts_stale = True

    def _refresh_merge_gap(self) -> None:
        """The within-burst gap, from the histogram of gaps (cheap: kept current before every silence
        check, so a silence is measured against the gaps of now, not of the last time one was scored)."""
        merge_gap = within_burst_gap(self._gap_bins)
        if merge_gap != self._merge_gap:
            self._merge_gap = merge_gap
            self._bursts_stale = True
        self._gaps_stale = False

    def _find_bursts(self) -> None:
        """Burst starts: active points more than the within-burst gap after the previous active point."""
        starts: list[int] = []
        previous: int | None = None
        for index in self._active:
            if previous is None or index - previous > self._merge_gap:
                starts.append(index)
            previous = index
        self._burst_starts = starts
        self._bursts_stale = False
