import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request as HttpRequest } from 'express';
import { ApiErrors, AuthThrottle, Ctx, type RequestContext } from '@diyml/core';
import { Public } from '../../auth/auth.guard.js';
import { RegisteredUserDto, RegisterUserDto } from './register-user.dto.js';
import { RegisterUser } from './register-user.handler.js';

@ApiTags('auth')
@Controller('v1/auth')
export class RegisterUserController {
  constructor(
    private readonly commands: CommandBus,
    private readonly throttle: AuthThrottle,
  ) {}

  @Public()
  @Post('register')
  @HttpCode(201)
  @ApiOperation({
    operationId: 'registerUser',
    summary: 'Create an account',
    description:
      'The password must have at least PASSWORD_MIN_LENGTH (default 10) characters, not be one character repeated, ' +
      'and not be one of the most common passwords: 400 WEAK_PASSWORD otherwise, saying which rule it breaks. ' +
      'One client address may register REGISTRATIONS_PER_SOURCE accounts per REGISTRATION_WINDOW_SECONDS (429 ' +
      'TOO_MANY_REGISTRATIONS with Retry-After beyond).',
  })
  @ApiCreatedResponse({ type: RegisteredUserDto })
  @ApiErrors(400, 409, 429, 503)
  async register(
    @Body() body: RegisterUserDto,
    @Ctx() context: RequestContext,
    @Req() request: HttpRequest,
  ): Promise<RegisteredUserDto> {
    await this.throttle.countRegistration(String(request.ip));
    return this.commands.execute(new RegisterUser(body.username, body.password, context));
  }
}
