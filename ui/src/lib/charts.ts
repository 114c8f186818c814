// Chart.js, bundled (nothing from a CDN), with only the parts the dashboard draws.
import {
  ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Legend,
  LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration,
} from 'chart.js';

Chart.register(
  ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Legend, LinearScale,
  LineController, LineElement, PointElement, Tooltip,
);
Chart.defaults.font.family = getComputedStyle(document.documentElement).getPropertyValue('--font') || 'sans-serif';
Chart.defaults.color = '#5b6673';

export const COLORS = ['#0b5cad', '#9aa7b4', '#11703a', '#b3261e', '#8a5a00', '#7b3fb0'];

/** A chart on `canvas` kept in step with `config()`: re-drawn when its data changes. */
export function chart(canvas: HTMLCanvasElement, config: ChartConfiguration) {
  const c = new Chart(canvas, {
    ...config,
    options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options },
  });
  return {
    update(next: ChartConfiguration) {
      c.data = next.data;
      c.update('none');
    },
    destroy() {
      c.destroy();
    },
  };
}
