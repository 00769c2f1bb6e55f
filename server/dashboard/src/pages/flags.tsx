export function FlagsPage({ env }: { env: string; params: URLSearchParams }) {
  return <h1>Flags</h1>;
}
