export function App() {
  return <h1>Labelcast</h1>;
}
