import path from 'node:path';

/**
 * The Terraform of a system applied to LocalStack with the same endpoint override as on the twin
 * (tflocal-style: the provider's `endpoints {}` from `-var aws_endpoint=…`, in
 * infra/<system>/terraform/environments/local). State and plugins stay in `stateDir`.
 */
export function terraformApplyCommands(
  terraformDir: string,
  endpoint: string,
  stateDir: string,
): { argv: string[]; env: Record<string, string> }[] {
  // terraform resolves paths after -chdir: state and data directories are made absolute first.
  const dir = path.resolve(stateDir);
  const env = { TF_DATA_DIR: `${dir}/.terraform`, TF_IN_AUTOMATION: '1' };
  const chdir = `-chdir=${terraformDir}`;
  return [
    { argv: ['terraform', chdir, 'init', '-input=false', '-no-color'], env },
    {
      argv: [
        'terraform',
        chdir,
        'apply',
        '-input=false',
        '-no-color',
        '-auto-approve',
        `-state=${dir}/terraform.tfstate`,
        `-var=aws_endpoint=${endpoint}`,
      ],
      env,
    },
  ];
}
