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
