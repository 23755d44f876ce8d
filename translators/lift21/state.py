"""The state of a 2.0.1 <-> 2.1 session: its outstanding calls and lossy counts.

The fitting keeps nothing else: 2.0.1 and 2.1 share transaction ids, EVSE
numbering and every identifier, so no mapping has to survive a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ocppkit.translators.pending import Pending


@dataclass(slots=True)
class LiftState:
    """Attributes:
    charge_point_id: the station's identity (for logs).
    pending: calls awaiting their answer, by :func:`~ocppkit.translators.pending.pending_key`.
    lossy_counts: lossy conversions by "<action>.<field>".
    """

    charge_point_id: str = ""
    pending: dict[str, Pending] = field(default_factory=dict)
    lossy_counts: dict[str, int] = field(default_factory=dict)

    def count_lossy(self, key: str) -> None:
        self.lossy_counts[key] = self.lossy_counts.get(key, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "charge_point_id": self.charge_point_id,
            "pending": {
                k: {
                    "action": p.action,
                    "origin_action": p.origin_action,
                    "origin_id": p.origin_id,
                    "data": p.data,
                }
                for k, p in self.pending.items()
            },
            "lossy_counts": dict(self.lossy_counts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LiftState:
        return cls(
            charge_point_id=data.get("charge_point_id", ""),
            pending={k: Pending(**p) for k, p in data.get("pending", {}).items()},
            lossy_counts=dict(data.get("lossy_counts", {})),
        )
