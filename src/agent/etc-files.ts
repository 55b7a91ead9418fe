/**
 * The per-container /etc/hosts, /etc/resolv.conf and /etc/hostname, written into the bundle and
 * bind-mounted over the image's, so the image's own files are never touched.
 */

/** /etc/hosts: loopback names, plus the container's own address when it has one. */
export function hostsFile(hostname: string, address: string | undefined): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    // Without an address of its own the hostname still has to resolve, as on Docker's none.
    `${address ?? '127.0.0.1'}\t${hostname}`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * /etc/resolv.conf from the host's. With the host's network it is copied as is; otherwise
 * loopback name servers (a local resolver such as systemd-resolved) are unreachable from the
 * container and dropped, falling back to public resolvers as Docker does when none remain.
 */
export function resolvConf(hostText: string, sharesHostNetwork: boolean): string {
  if (sharesHostNetwork) return hostText;
  const kept = hostText.split('\n').filter((line) => {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    return !match || !isLoopback(match[1] as string);
  });
  const text = kept.join('\n').trimEnd();
  if (/^\s*nameserver\s/m.test(text)) return `${text}\n`;
  return `${text ? `${text}\n` : ''}nameserver 8.8.8.8\nnameserver 8.8.4.4\n`;
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}
