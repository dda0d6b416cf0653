export function ActivityChart() {
  return null;
}
