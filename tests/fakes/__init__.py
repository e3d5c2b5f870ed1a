"""In-memory stand-ins for the domain's ports, to test use cases with no I/O.

`FakeUnitOfWorkFactory()` is passed wherever a use case takes a `UnitOfWorkFactory`; each
unit of work it makes is a transaction over dicts (see `uow`), and each fake repository
refuses what its SQL counterpart refuses (see `tests/integration/test_fakes_agree.py`,
which runs the same scenarios on both).
"""

from tests.fakes.tables import ConstraintViolation, Tables, UniqueViolation
from tests.fakes.uow import FakeUnitOfWork, FakeUnitOfWorkFactory

__all__ = [
    "ConstraintViolation",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
    "Tables",
    "UniqueViolation",
]
