/** Where clients reach this server, for absolute URIs in answers. */
export function baseUrlOf(request: { protocol: string; get(name: string): string | undefined }): string {
  return `${request.protocol}://${request.get('host') ?? 'localhost'}`;
}
