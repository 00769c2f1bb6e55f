export function ComparePage() {
  return <h1>Compare environments</h1>;
}
