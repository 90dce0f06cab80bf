"""Drawings the server renders as SVG: the volume of a search over time, and places on a world map.

Only the geometry is computed here; the templates write the SVG elements (autoescaped like any text).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.query.schemas import TimeSeriesOut
from services.query.ui.worldmap import OUTLINES

CHART_WIDTH, CHART_HEIGHT = 720, 160
_PAD_LEFT, _PAD_BOTTOM, _PAD_TOP = 40, 22, 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    start: datetime
    count: int


@dataclass(frozen=True)
class VolumeChart:
    bars: list[Bar]
    max_count: int
    total: int
    interval: str
    first: datetime | None
    last: datetime | None
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = _PAD_LEFT
    baseline: int = CHART_HEIGHT - _PAD_BOTTOM


def volume_chart(series: TimeSeriesOut) -> VolumeChart:
    """Bars scaled to the busiest bucket; empty buckets keep their place so gaps show as gaps."""
    buckets = series.buckets
    peak = max((b.count for b in buckets), default=0)
    plot_w = CHART_WIDTH - _PAD_LEFT - 4
    plot_h = CHART_HEIGHT - _PAD_BOTTOM - _PAD_TOP
    step = plot_w / len(buckets) if buckets else 0.0
    bars = []
    for i, b in enumerate(buckets):
        h = plot_h * b.count / peak if peak else 0.0
        bars.append(
            Bar(
                x=round(_PAD_LEFT + i * step + step * 0.1, 2),
                y=round(CHART_HEIGHT - _PAD_BOTTOM - h, 2),
                width=round(max(step * 0.8, 1.0), 2),
                height=round(h, 2),
                start=b.start,
                count=b.count,
            )
        )
    return VolumeChart(
        bars=bars,
        max_count=peak,
        total=series.total,
        interval=series.interval,
        first=buckets[0].start if buckets else None,
        last=buckets[-1].start if buckets else None,
    )


MAP_WIDTH, MAP_HEIGHT = 360, 180


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class WorldMap:
    outlines: list[str]
    meridians: list[float]
    parallels: list[float]
    dots: list[Dot]
    width: int = MAP_WIDTH
    height: int = MAP_HEIGHT


def project(lon: float, lat: float) -> tuple[float, float]:
    """Equirectangular: one SVG unit per degree, north up."""
    return round(lon + 180.0, 2), round(90.0 - lat, 2)


def world_map(places: list[tuple[str, float, float]]) -> WorldMap:
    """The coarse outline, a 30° graticule, and a dot per (name, lat, lon)."""
    outlines = [" ".join(f"{x},{y}" for x, y in (project(lon, lat) for lon, lat in shape)) for shape in OUTLINES]
    dots = []
    for name, lat, lon in places:
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            x, y = project(lon, lat)
            dots.append(Dot(x=x, y=y, name=name, lat=lat, lon=lon))
    return WorldMap(
        outlines=outlines,
        meridians=[float(x) for x in range(30, 360, 30)],
        parallels=[float(y) for y in range(30, 180, 30)],
        dots=dots,
    )
