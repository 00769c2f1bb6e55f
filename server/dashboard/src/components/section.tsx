import type { ComponentChildren } from "preact";
import { useId } from "preact/hooks";

/** A region named by its heading (`getByRole("region", { name })`). */
export function Region({ title, children, level = 2 }: { title: string; children: ComponentChildren; level?: 2 | 3 }) {
  const id = useId();
  const Heading = level === 2 ? "h2" : "h3";
  return (
    <section class="panel" aria-labelledby={id}>
      <Heading id={id}>{title}</Heading>
      {children}
    </section>
  );
}
