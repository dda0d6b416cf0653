// Deliveries per minute by outcome (stacked bars) and the backlog (a line), from /v1/activity.
// A few dozen lines of SVG instead of a chart library: one chart does not earn 100+ kB.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { Query } from '../ui';

const W = 900;
const H = 220;
const PAD = 28;
const COLORS = { success: '#2e9d55', failure: '#e0a100', dead_lettered: '#c62828', backlog: '#2456c7' };

export function ActivityChart() {
  const [hours, setHours] = useState(3);
  const q = useQuery({ queryKey: ['activity', hours], queryFn: () => call(api.GET('/v1/activity', { params: { query: { hours } } })), refetchInterval: 30_000 });
  return (
    <div className="card chart">
      <div className="toolbar">
        <h2>Deliveries per minute</h2>
        <label className="check">
          Last
          <select value={hours} onChange={(e) => setHours(Number(e.target.value))} aria-label="Hours shown">
            {[1, 3, 6, 12, 24].map((h) => <option key={h} value={h}>{h} h</option>)}
          </select>
        </label>
      </div>
      <Query q={q} what="activity">
        {(a) => {
          const ms = a.minutes;
          const total = ms.reduce((s, m) => s + m.success + m.failure, 0);
          const maxBar = Math.max(1, ...ms.map((m) => m.success + m.failure));
          const maxLine = Math.max(1, ...ms.map((m) => m.backlog));
          const bw = (W - 2 * PAD) / ms.length;
          const y = (v: number, max: number) => H - PAD - (v / max) * (H - 2 * PAD);
          const line = ms.map((m, i) => `${i ? 'L' : 'M'}${(PAD + (i + 0.5) * bw).toFixed(1)},${y(m.backlog, maxLine).toFixed(1)}`).join(' ');
          const last = ms[ms.length - 1];
          return (
            <>
              <p>
                {total} attempt(s) in the last {hours} h · backlog now <strong>{last?.backlog ?? 0}</strong> · due now <strong>{a.due_now}</strong>
              </p>
              <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Deliveries per minute over the last ${hours} hours: ${total} attempts; backlog now ${last?.backlog ?? 0}`}>
                <line x1={PAD} y1={H - PAD} x2={W - PAD} y2={H - PAD} stroke="#b7bfcc" />
                {ms.map((m, i) => {
                  const x = PAD + i * bw;
                  const hs = (m.success / maxBar) * (H - 2 * PAD);
                  const hf = (m.failure / maxBar) * (H - 2 * PAD);
                  return (
                    <g key={m.at}>
                      {m.success > 0 && <rect x={x} y={H - PAD - hs} width={Math.max(bw - 0.5, 0.5)} height={hs} fill={COLORS.success} />}
                      {m.failure > 0 && <rect x={x} y={H - PAD - hs - hf} width={Math.max(bw - 0.5, 0.5)} height={hf} fill={m.dead_lettered ? COLORS.dead_lettered : COLORS.failure} />}
                    </g>
                  );
                })}
                <path d={line} fill="none" stroke={COLORS.backlog} strokeWidth="2" />
                <text x={PAD} y={14} fontSize="12" fill="#5d6776">max {maxBar}/min · backlog max {maxLine}</text>
                <text x={PAD} y={H - 8} fontSize="12" fill="#5d6776">{new Date(a.start).toLocaleTimeString()}</text>
                <text x={W - PAD} y={H - 8} fontSize="12" fill="#5d6776" textAnchor="end">{new Date(a.end).toLocaleTimeString()}</text>
              </svg>
              <div className="legend">
                <span style={{ '--c': COLORS.success } as React.CSSProperties}>succeeded</span>
                <span style={{ '--c': COLORS.failure } as React.CSSProperties}>failed (retried)</span>
                <span style={{ '--c': COLORS.dead_lettered } as React.CSSProperties}>minute with a dead letter</span>
                <span style={{ '--c': COLORS.backlog } as React.CSSProperties}>backlog</span>
              </div>
            </>
          );
        }}
      </Query>
    </div>
  );
}
