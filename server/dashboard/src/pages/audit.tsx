export function AuditPage(_: { params: URLSearchParams }) {
  return <h1>Audit trail</h1>;
}
