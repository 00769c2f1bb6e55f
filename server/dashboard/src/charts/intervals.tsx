// The experiment's interval plot: for each variant compared with the control, its lift
// (a dot) and always-valid interval (a bar) on one scale, with the line of no lift. A
// small SVG; the "Variants" table holds the same numbers for assistive technology.
import { formatSignedRate } from "./format.ts";
import { intervalDomain, scale, type VariantRow } from "./experiment.ts";

/** The plot's own width, beside the variants' names. */
const PLOT = 320;
const ROW = 28;
const PAD = 14;
/** Roughly the width of one character of a 13 px label. */
const CHAR = 7.5;
/** Axis labels closer than this to the 0 % label are left out (they would overlap). */
const CLEARANCE = 48;

export function IntervalPlot({ rows }: { rows: VariantRow[] }) {
  const compared = rows.filter((row) => !row.control);
  if (compared.length === 0) return null;
  const domain = intervalDomain(compared);
  const label = Math.max(60, Math.max(...compared.map((row) => row.variant.length)) * CHAR);
  const width = label + PLOT + PAD * 2;
  const plot = PLOT;
  const x = scale(domain, plot);
  const height = compared.length * ROW + 30;
  const zero = label + PAD + x(0);
  return (
    <svg class="interval-plot" viewBox={`0 0 ${width} ${height}`} style={{ maxWidth: `${width}px` }} role="img" aria-label={`Lift over the control with ${compared.length === 1 ? "its interval" : "their intervals"}; the table lists the numbers`}>
      <line x1={zero} x2={zero} y1={4} y2={height - 24} stroke="#374151" stroke-dasharray="4 3" />
      <text x={zero} y={height - 8} text-anchor="middle" class="interval-axis">
        0 %
      </text>
      {zero - (label + PAD) > CLEARANCE ? (
        <text x={label + PAD} y={height - 8} text-anchor="start" class="interval-axis">
          {formatSignedRate(domain[0])}
        </text>
      ) : null}
      {width - PAD - zero > CLEARANCE ? (
        <text x={width - PAD} y={height - 8} text-anchor="end" class="interval-axis">
          {formatSignedRate(domain[1])}
        </text>
      ) : null}
      {compared.map((row, i) => {
        const y = i * ROW + ROW / 2 + 4;
        return (
          <g key={row.variant}>
            <text x={label} y={y + 4} text-anchor="end" class="interval-label">
              {row.variant}
            </text>
            {row.bounds ? (
              <line
                x1={label + PAD + x(row.bounds[0])}
                x2={label + PAD + x(row.bounds[1])}
                y1={y}
                y2={y}
                stroke={row.bounds[0] > 0 ? "#166534" : row.bounds[1] < 0 ? "#b91c1c" : "#1d4ed8"}
                stroke-width="6"
                stroke-linecap="round"
              />
            ) : (
              <text x={label + PAD} y={y + 4} class="interval-axis">
                no interval yet
              </text>
            )}
            {row.estimate !== null ? <circle cx={label + PAD + x(row.estimate)} cy={y} r="5" fill="#111827" /> : null}
          </g>
        );
      })}
    </svg>
  );
}
