"""A note's total spread over its lines, to the cent.

Each line costs its value plus its own freight, insurance and other
charges, minus its discount, plus the taxes paid on top of it (IPI,
ICMS-ST, FCP-ST): the per-line figures of the XML when it has them. What the
note's total (vNF) still differs from their sum (charges given only in
the totals, a tax the lines do not carry, rounding) is shared out in
proportion to each line's amount, by the largest-remainder method, so the
line costs always add up to the note's total exactly.
"""

from decimal import ROUND_DOWN, Decimal

from purchasing.nfe.parsing import Note

CENT = Decimal("0.01")


def share_out(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """``amount`` split in proportion to ``weights``, in cents that add up to it exactly."""
    if not weights:
        return []
    cents = int((amount / CENT).to_integral_value())
    sign = -1 if cents < 0 else 1
    cents = abs(cents)
    total = sum(weights)
    if total <= 0:
        weights = [Decimal(1)] * len(weights)
        total = Decimal(len(weights))
    exact = [Decimal(cents) * weight / total for weight in weights]
    floors = [int(value.to_integral_value(rounding=ROUND_DOWN)) for value in exact]
    left = cents - sum(floors)
    # The cents still to give go to the largest fractions (ties: the earlier line).
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in order[:left]:
        floors[index] += 1
    return [sign * Decimal(value) * CENT for value in floors]


def line_costs(note: Note) -> list[Decimal]:
    """Each line's cost, in the note's line order; they add up to the note's total (vNF)."""
    own = [
        (
            line.value + line.freight + line.insurance + line.other - line.discount + line.taxes
        ).quantize(CENT)
        for line in note.lines
    ]
    rest = note.totals.note - sum(own, Decimal("0.00"))
    if not rest:
        return own
    weights = [max(amount, Decimal(0)) for amount in own]
    return [amount + share for amount, share in zip(own, share_out(rest, weights), strict=True)]
