import { useId } from "preact/hooks";

/** A labelled <select>; `options` are values, or [value, text] pairs. */
export function SelectField(props: { label: string; value: string; options: (string | [string, string])[]; onChange: (value: string) => void }) {
  const id = useId();
  return (
    <div>
      <label for={id}>{props.label}</label>
      <select id={id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.options.map((option) => {
          const [value, text] = typeof option === "string" ? [option, option] : option;
          return (
            <option key={value} value={value}>
              {text}
            </option>
          );
        })}
      </select>
    </div>
  );
}
