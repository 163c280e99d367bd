import type { Assertion } from '#lib/api-types.ts';

export const ASSERTION_TYPES = [
  { type: 'contains', label: 'Contains', value: 'Text the answer must contain' },
  { type: 'not_contains', label: 'Does not contain', value: 'Text the answer must not contain' },
  { type: 'equals', label: 'Equals', value: 'The exact answer' },
  { type: 'regex', label: 'Matches regex', value: 'Pattern, e.g. ^\\d+ items?$' },
  { type: 'is_json', label: 'Is valid JSON', value: '' },
  { type: 'json_schema', label: 'Matches JSON schema', value: '{ "type": "object", "required": ["answer"] }' },
  { type: 'max_length', label: 'At most N characters', value: 'e.g. 500' },
  { type: 'rubric', label: 'Rubric (judged by a model)', value: 'What a good answer does, for the judge model' },
] as const;

export type AssertionType = Assertion['type'];

/** One row of the assertion editor, as the form holds it (strings, not yet validated). */
export interface AssertionRow {
  type: AssertionType | '';
  value: string;
  /** Regex flags, or "on" for ignore case on the text checks. */
  option: string;
}

export function blankRow(): AssertionRow {
  return { type: '', value: '', option: '' };
}

/**
 * The "+ Add assertion" button's field. With JavaScript the editor adds the row itself; without,
 * the button submits the form, and the action hands the values back with one more blank row.
 */
export const ADD_ROW_FIELD = 'addAssertion';

export function wantsAnotherRow(form: FormData): boolean {
  return form.has(ADD_ROW_FIELD);
}

export function toRow(assertion: Assertion): AssertionRow {
  switch (assertion.type) {
    case 'equals':
    case 'contains':
    case 'not_contains':
      return { type: assertion.type, value: assertion.value, option: assertion.ignoreCase ? 'on' : '' };
    case 'regex':
      return { type: 'regex', value: assertion.pattern, option: assertion.flags ?? '' };
    case 'is_json':
      return { type: 'is_json', value: '', option: '' };
    case 'json_schema':
      return { type: 'json_schema', value: JSON.stringify(assertion.schema, null, 2), option: '' };
    case 'max_length':
      return { type: 'max_length', value: String(assertion.value), option: '' };
    case 'rubric':
      return { type: 'rubric', value: assertion.rubric, option: '' };
  }
}

/** The editor's rows from form fields named `assertions.<i>.type|value|option`. */
export function rowsFromForm(form: FormData): AssertionRow[] {
  const indexes = new Set<number>();
  for (const key of form.keys()) {
    const match = /^assertions\.(\d+)\.type$/.exec(key);
    if (match) indexes.add(Number(match[1]));
  }
  return [...indexes]
    .sort((a, b) => a - b)
    .map((i) => ({
      type: String(form.get(`assertions.${i}.type`) ?? '') as AssertionRow['type'],
      value: String(form.get(`assertions.${i}.value`) ?? ''),
      option: String(form.get(`assertions.${i}.option`) ?? ''),
    }));
}

/** Rows to assertions; a row with no type is an unused blank row. Errors name the row, as a person counts. */
export function parseRows(rows: AssertionRow[]): { assertions: Assertion[] } | { error: string } {
  const assertions: Assertion[] = [];
  for (const [i, row] of rows.entries()) {
    const n = `Assertion ${i + 1}`;
    const value = row.value;
    switch (row.type) {
      case '':
        continue;
      case 'equals':
      case 'contains':
      case 'not_contains':
        if (value === '') return { error: `${n}: give the text to check for.` };
        assertions.push({ type: row.type, value, ...(row.option === 'on' ? { ignoreCase: true } : {}) });
        break;
      case 'regex': {
        if (value === '') return { error: `${n}: give a regular expression.` };
        const flags = row.option.trim();
        try {
          new RegExp(value, flags);
        } catch (failure) {
          return { error: `${n}: not a valid regular expression (${(failure as Error).message}).` };
        }
        assertions.push({ type: 'regex', pattern: value, ...(flags ? { flags } : {}) });
        break;
      }
      case 'is_json':
        assertions.push({ type: 'is_json' });
        break;
      case 'json_schema': {
        let schema: unknown;
        try {
          schema = JSON.parse(value);
        } catch (failure) {
          return { error: `${n}: the JSON schema is not JSON (${(failure as Error).message}).` };
        }
        if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return { error: `${n}: a JSON schema is an object, { … }.` };
        assertions.push({ type: 'json_schema', schema: schema as Record<string, unknown> });
        break;
      }
      case 'max_length': {
        const max = Number(value.trim());
        if (!Number.isInteger(max) || max <= 0) return { error: `${n}: the maximum length is a whole number above 0, not "${value}".` };
        assertions.push({ type: 'max_length', value: max });
        break;
      }
      case 'rubric':
        if (value.trim() === '') return { error: `${n}: describe what the judge should look for.` };
        assertions.push({ type: 'rubric', rubric: value });
        break;
      default:
        return { error: `${n}: unknown type "${String(row.type)}".` };
    }
  }
  return { assertions };
}

/** One line a person reads in a list of test cases. */
export function describeAssertion(assertion: Assertion): string {
  switch (assertion.type) {
    case 'equals':
      return `equals "${assertion.value}"${assertion.ignoreCase ? ' (ignore case)' : ''}`;
    case 'contains':
      return `contains "${assertion.value}"${assertion.ignoreCase ? ' (ignore case)' : ''}`;
    case 'not_contains':
      return `does not contain "${assertion.value}"${assertion.ignoreCase ? ' (ignore case)' : ''}`;
    case 'regex':
      return `matches /${assertion.pattern}/${assertion.flags ?? ''}`;
    case 'is_json':
      return 'is valid JSON';
    case 'json_schema':
      return `matches JSON schema ${JSON.stringify(assertion.schema)}`;
    case 'max_length':
      return `at most ${assertion.value} characters`;
    case 'rubric':
      return `rubric: ${assertion.rubric}`;
  }
}
