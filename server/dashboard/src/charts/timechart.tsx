// A uPlot time-series chart of a rollout: canary and control lines, dashed threshold
// lines, the stages as shaded bands with their percentage, and the controller's and
// people's decisions as vertical markers on the same time axis. Times on the axis are
// in the viewer's zone; the readout under the chart gives the hovered time in UTC too.
// uPlot draws on a canvas, so the chart is hidden from assistive technology: the page
// puts a table of the same numbers right after it.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./charts.css";
import { useEffect, useRef, useState } from "preact/hooks";
import { utcText } from "../dates.ts";
import type { Decision, StageBand } from "./series.ts";

/** One line of the chart. */
export interface Line {
  label: string;
  /** Its colour (≥ 3:1 against white) — never the only difference: see `dash` and `points`. */
  stroke: string;
  width?: number;
  /** Canvas dash pattern, e.g. [6, 4] for a threshold. */
  dash?: number[];
  /** Draw each value as a dot too. */
  points?: boolean;
}

export interface TimeChartProps {
  /** uPlot's aligned data: times (seconds) then one column per line. */
  data: (number | null)[][];
  lines: Line[];
  bands: StageBand[];
  markers: Decision[];
  /** How a value is written on the axis and in the readout. */
  format: (value: number | null) => string;
  height?: number;
}

const BAND_FILLS = ["rgba(31, 41, 55, 0.07)", "rgba(31, 41, 55, 0.02)"];
const MARKER_COLOURS: Record<string, string> = {
  rolled_back: "#b91c1c",
  aborted: "#b91c1c",
  interrupted: "#b91c1c",
  advanced: "#166534",
  completed: "#166534",
  promoted: "#166534",
};

/** A short label for a decision marker. */
function markerLabel(action: string): string {
  return action.replace(/_/g, " ");
}

/** The time the readout shows: local, then UTC. */
function readoutTime(t: number): string {
  const local = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    month: "short",
    day: "numeric",
  }).format(new Date(t * 1000));
  return `${local} (${utcText(new Date(t * 1000))})`;
}

function drawBands(u: uPlot, bands: StageBand[]): void {
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  const scale = uPlot.pxRatio;
  ctx.font = `${11 * scale}px system-ui, sans-serif`;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  bands.forEach((band, i) => {
    const x0 = u.valToPos(band.from, "x", true);
    const x1 = u.valToPos(band.to, "x", true);
    ctx.fillStyle = BAND_FILLS[i % 2] ?? "transparent";
    ctx.fillRect(x0, top, Math.max(x1 - x0, 1), height);
    ctx.strokeStyle = "#6b7280";
    ctx.lineWidth = scale;
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.moveTo(x0, top);
    ctx.lineTo(x0, top + height);
    ctx.stroke();
    ctx.fillStyle = "#374151";
    const label = `${band.number}: ${band.percentage} %`;
    if (x1 - x0 > ctx.measureText(label).width + 6 * scale) ctx.fillText(label, x0 + 3 * scale, top + 3 * scale);
  });
  ctx.restore();
}

function drawMarkers(u: uPlot, markers: Decision[]): void {
  const { ctx } = u;
  const { top, height } = u.bbox;
  const scale = uPlot.pxRatio;
  ctx.save();
  ctx.font = `${11 * scale}px system-ui, sans-serif`;
  ctx.textBaseline = "bottom";
  ctx.textAlign = "left";
  for (const marker of markers) {
    if (!Number.isFinite(marker.t)) continue;
    const x = Math.round(u.valToPos(marker.t, "x", true));
    const colour = MARKER_COLOURS[marker.action] ?? "#1f2937";
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5 * scale;
    ctx.setLineDash([2 * scale, 2 * scale]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    // A small flag at the foot of the line, and the action beside it.
    ctx.setLineDash([]);
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.moveTo(x, top + height);
    ctx.lineTo(x + 5 * scale, top + height - 5 * scale);
    ctx.lineTo(x - 5 * scale, top + height - 5 * scale);
    ctx.closePath();
    ctx.fill();
    ctx.save();
    ctx.translate(x - 3 * scale, top + height - 8 * scale);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(markerLabel(marker.action), 0, 0);
    ctx.restore();
  }
  ctx.restore();
}

function options(props: TimeChartProps, width: number, overlay: { current: Pick<TimeChartProps, "bands" | "markers"> }, onCursor: (idx: number | null) => void): uPlot.Options {
  const axis = { stroke: "#374151", grid: { stroke: "#e5e7eb" }, ticks: { stroke: "#9ca3af" } };
  return {
    width,
    height: props.height ?? 240,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { ...axis },
      { ...axis, size: 64, values: (_u, ticks) => ticks.map((tick) => props.format(tick)) },
    ],
    series: [
      {},
      ...props.lines.map((line) => ({
        label: line.label,
        stroke: line.stroke,
        width: line.width ?? 2,
        dash: line.dash,
        spanGaps: false,
        points: { show: line.points ?? false, size: 5, fill: line.stroke },
      })),
    ],
    hooks: {
      drawClear: [(u) => drawBands(u, overlay.current.bands)],
      draw: [(u) => drawMarkers(u, overlay.current.markers)],
      setCursor: [(u) => onCursor(u.cursor.idx ?? null)],
    },
  };
}

/** A canvas chart; the page supplies the accessible table of the same numbers. */
export function TimeChart(props: TimeChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const overlay = useRef({ bands: props.bands, markers: props.markers });
  const [hovered, setHovered] = useState<number | null>(null);
  overlay.current = { bands: props.bands, markers: props.markers };
  const shape = props.lines.map((line) => line.label).join("|");

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const plot = new uPlot(options(props, Math.max(element.clientWidth, 280), overlay, setHovered), props.data as uPlot.AlignedData, element);
    chart.current = plot;
    const resize = new ResizeObserver(() => {
      const width = Math.max(element.clientWidth, 280);
      if (width !== plot.width) plot.setSize({ width, height: props.height ?? 240 });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
      chart.current = null;
    };
    // The chart is rebuilt only when its lines change; new data goes through setData.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, props.height]);

  useEffect(() => {
    chart.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data, props.bands, props.markers]);

  const times = props.data[0] ?? [];
  const index = hovered ?? times.length - 1;
  const t = times[index];
  return (
    <div class="timechart">
      <div class="timechart-canvas" ref={host} aria-hidden="true" />
      <ul class="timechart-key" aria-hidden="true">
        {props.lines.map((line, i) => (
          <li key={line.label}>
            <svg width="28" height="10" viewBox="0 0 28 10">
              <line x1="0" y1="5" x2="28" y2="5" stroke={line.stroke} stroke-width={line.width ?? 2} stroke-dasharray={line.dash?.join(" ")} />
              {line.points ? <circle cx="14" cy="5" r="3" fill={line.stroke} /> : null}
            </svg>
            {line.label}
            {typeof t === "number" ? <span class="timechart-value">{props.format(props.data[i + 1]?.[index] ?? null)}</span> : null}
          </li>
        ))}
        {typeof t === "number" ? <li class="timechart-time">{readoutTime(t)}</li> : null}
      </ul>
    </div>
  );
}
