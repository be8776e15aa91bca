import { plainToInstance } from 'class-transformer';
import { IsIn, validateSync } from 'class-validator';
import { isCalendarDateTime, IsOptionalNotNull } from './validators';

describe('isCalendarDateTime', () => {
  it.each(['2026-11-30T02:30:00Z', '2028-02-29T23:59:59.123+02:00', '2026-01-01t00:00:00z'])('accepts %s', (v) => expect(isCalendarDateTime(v)).toBe(true));
  it.each(['2026-11-31T02:30:00Z', '2027-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:30:00Z', '2026-01-01T00:00:00', '2026-01-01', 42])('refuses %s', (v) =>
    expect(isCalendarDateTime(v)).toBe(false),
  );
});

describe('IsOptionalNotNull', () => {
  class Dto {
    @IsOptionalNotNull()
    @IsIn(['REGULAR', 'EMERGENCY'])
    callType?: string;
  }
  const errors = (plain: object) => validateSync(plainToInstance(Dto, plain));
  it('skips an absent property', () => expect(errors({})).toHaveLength(0));
  it('refuses an explicit null', () => expect(errors({ callType: null })).toHaveLength(1));
});
