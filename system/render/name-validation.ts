/** Name and label rules of the API server (k8s.io/apimachinery/pkg/util/validation). */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Returns what is wrong with a name, or undefined when it is valid. */
export function dns1123SubdomainProblem(name: string): string | undefined {
  if (name.length <= 253 && DNS1123_SUBDOMAIN.test(name)) return undefined;
  return `${JSON.stringify(name)} is not a valid DNS-1123 subdomain (at most 253 lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric)`;
}

export function dns1123LabelProblem(name: string): string | undefined {
  if (name.length <= 63 && DNS1123_LABEL.test(name)) return undefined;
  return `${JSON.stringify(name)} is not a valid DNS-1123 label (at most 63 lower case alphanumeric characters or '-', starting and ending with an alphanumeric)`;
}

/** Service names are DNS-1035 labels: like DNS-1123 labels, but starting with a letter. */
export function dns1035LabelProblem(name: string): string | undefined {
  if (name.length <= 63 && DNS1035_LABEL.test(name)) return undefined;
  return `${JSON.stringify(name)} is not a valid DNS-1035 label (at most 63 lower case alphanumeric characters or '-', starting with a letter and ending with an alphanumeric)`;
}

/** Label and annotation keys: an optional DNS subdomain prefix and a name of at most 63 characters. */
export function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix === '' || dns1123SubdomainProblem(prefix))) {
    return `key ${JSON.stringify(key)} has an invalid prefix (it must be a DNS-1123 subdomain)`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return `key ${JSON.stringify(key)} is not a valid qualified name (at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric, with an optional DNS subdomain prefix and '/')`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length <= 63 && LABEL_VALUE.test(value)) return undefined;
  return `value ${JSON.stringify(value)} is not a valid label value (at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric)`;
}
