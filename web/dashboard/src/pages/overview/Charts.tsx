// The Overview's charts: referral activity per bucket, and the reward cost of each asset in its unit.
import {
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatAmount } from '../../components/ui';
import type { StatsOverview } from './types';
import { currencyExponent } from '../customers/input';

const LEGEND_ORDER = ['referrals', 'conversions', 'rejections'];
const COLORS = { referrals: '#0b5cad', conversions: '#2da44e', rejections: '#b42318', reward: '#8250df' };

/** A bucket's label: "2 Mar" for a day, "wk 2 Mar" for a week, "Mar 2026" for a month (UTC). */
export function bucketLabel(start: string, interval: StatsOverview['interval']): string {
  const d = new Date(start);
  if (interval === 'month')
    return d.toLocaleDateString('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
  const day = d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
  return interval === 'week' ? `wk ${day}` : day;
}

export function ActivityChart({ stats }: { stats: StatsOverview }) {
  const data = stats.series.map((s) => ({
    label: bucketLabel(s.start, stats.interval),
    referrals: s.referrals,
    conversions: s.conversions,
    rejections: s.rejections,
  }));
  return (
    <div
      className="chart"
      role="img"
      aria-label={`Referrals, conversions and rejections per ${stats.interval}`}
    >
      <ResponsiveContainer width="100%" height={260}>
        <ComposedChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" tick={{ fontSize: 12 }} minTickGap={12} />
          <YAxis allowDecimals={false} tick={{ fontSize: 12 }} width={40} />
          <Tooltip />
          <Legend itemSorter={(item) => LEGEND_ORDER.indexOf(String(item.dataKey))} />
          <Bar dataKey="referrals" name="Referrals" fill={COLORS.referrals} isAnimationActive={false} />
          <Bar dataKey="conversions" name="Conversions" fill={COLORS.conversions} isAnimationActive={false} />
          <Line
            dataKey="rejections"
            name="Rejections"
            stroke={COLORS.rejections}
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

/** The net reward cost of one asset per bucket, in the asset's unit (money in major units). */
export function RewardChart({ stats, asset }: { stats: StatsOverview; asset: string }) {
  const info = stats.assets.find((a) => a.asset === asset) ?? { kind: 'units', currency: null, unit: asset };
  const exponent = info.kind === 'money' && info.currency ? currencyExponent(info.currency) : 0;
  const data = stats.series.map((s) => ({
    label: bucketLabel(s.start, stats.interval),
    minor: s.rewards.find((r) => r.asset === asset)?.net ?? 0,
  }));
  const format = (minor: number) => formatAmount(minor, { ...info, code: asset });
  return (
    <div className="chart" role="img" aria-label={`Reward cost in ${asset} per ${stats.interval}`}>
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" tick={{ fontSize: 12 }} minTickGap={12} />
          <YAxis
            tick={{ fontSize: 12 }}
            width={64}
            tickFormatter={(v: number) =>
              exponent ? (v / 10 ** exponent).toLocaleString('en-US') : v.toLocaleString('en-US')
            }
          />
          <Tooltip formatter={(v) => [format(Number(v)), 'Net cost']} />
          <Bar dataKey="minor" name={asset} fill={COLORS.reward} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
