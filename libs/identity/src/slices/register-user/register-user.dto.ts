import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class CredentialsDto {
  @ApiProperty({ example: 'ada', minLength: 3, maxLength: 32, pattern: USERNAME_PATTERN.source })
  @IsString()
  @MinLength(3)
  @MaxLength(32)
  @Matches(USERNAME_PATTERN, {
    message: 'username must start with a letter or digit and contain only letters, digits, ".", "_" and "-"',
  })
  username: string;

  @ApiProperty({ example: 'correct horse battery staple', minLength: 8, maxLength: 128, format: 'password' })
  @IsString()
  @MinLength(8)
  @MaxLength(128)
  password: string;
}

/**
 * What sign-up takes: the same fields as a login, with sentences a person can act on. The 8 characters here are
 * the floor PASSWORD_MIN_LENGTH may raise; PasswordPolicy then answers 400 WEAK_PASSWORD with the configured length.
 */
export class RegisterUserDto {
  @ApiProperty({ example: 'ada', minLength: 3, maxLength: 32, pattern: USERNAME_PATTERN.source })
  @IsString({ message: 'Type a username.' })
  @MinLength(3, { message: 'Use at least 3 characters for the username.' })
  @MaxLength(32, { message: 'Use at most 32 characters for the username.' })
  @Matches(USERNAME_PATTERN, {
    message: 'Start the username with a letter or digit, and use only letters, digits, ".", "_" and "-".',
  })
  username: string;

  @ApiProperty({ example: 'correct horse battery staple', minLength: 8, maxLength: 128, format: 'password' })
  @IsString({ message: 'Type a password.' })
  @MinLength(8, {
    message:
      'Use at least 8 characters for the password (this server may ask for more): a few words make a good one. ' +
      'Common passwords and one character repeated are refused too.',
  })
  @MaxLength(128, { message: 'Use at most 128 characters for the password.' })
  password: string;
}

export class RegisteredUserDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'ada' })
  username: string;
}

/** Where the anonymous sign-up and login routes live. */
export const AUTH_ROUTES_PATH = '/v1/auth';

/**
 * Their JSON body limit: credentials take well under 1 KiB, and anyone can send to these routes, so they parse no
 * more (413 PAYLOAD_TOO_LARGE) instead of the general JSON_MAX_BYTES: twenty anonymous 1 MiB bodies at once
 * held the api for about two seconds on 2 cores.
 */
export const AUTH_JSON_MAX_BYTES = 64 * 1024;
