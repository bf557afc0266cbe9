import { Injectable } from '@nestjs/common';
import { dictionary } from '@zxcvbn-ts/language-common';
import { DomainError, Settings } from '@diyml/core';

/** ~49,000 passwords found most often in breaches (zxcvbn-ts's common list, MIT), lower-cased. */
let commonPasswords: Set<string> | undefined;

function isCommon(password: string): boolean {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((entry) => entry.toLowerCase()));
  return commonPasswords.has(password.toLowerCase());
}

/**
 * What a new password must be: at least PASSWORD_MIN_LENGTH characters, not one character repeated, not one of
 * the most common passwords. 400 WEAK_PASSWORD says which rule it breaks.
 */
@Injectable()
export class PasswordPolicy {
  constructor(private readonly settings: Settings) {}

  assertStrong(password: string): void {
    const minLength = this.settings.PASSWORD_MIN_LENGTH;
    if ([...password].length < minLength)
      throw weak(`The password must have at least ${minLength} characters.`, 'too-short');
    if (new Set(password).size === 1)
      throw weak('The password must not be one character repeated.', 'repeated-character');
    if (isCommon(password)) {
      throw weak(
        'The password is one of the most common passwords, which are guessed first: choose another.',
        'common',
      );
    }
  }
}

function weak(message: string, rule: string): DomainError {
  return DomainError.validation('WEAK_PASSWORD', message, { rule });
}
