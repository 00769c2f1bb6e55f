export function FlagPage({ flag }: { env: string; flag: string }) {
  return <h1>{flag}</h1>;
}
