from celery import shared_task

from movements.selectors import ledger_differences


@shared_task(name="movements.check_ledger")
def check_ledger_task() -> dict:
    """Recompute invariant 1 for every product; the result lists what differs."""
    differences = ledger_differences()
    return {
        "consistent": not differences,
        "differences": [
            {"product_id": d.product_id, "recorded": d.recorded, "expected": d.expected}
            for d in differences[:100]
        ],
        "difference_count": len(differences),
    }
