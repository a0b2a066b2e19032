"""The simulated organisation's address book (contoso.com) and how people/search matches it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Phone properties of a contact, in the order a client would offer them.
PHONE_FIELDS = ("workPhoneNumber", "mobilePhoneNumber", "homePhoneNumber", "otherPhoneNumber")

_WORD_SPLIT = re.compile(r"[\s\-'’.]+")
_DIAL_SEPARATORS = re.compile(r"[\s\-.()/+]")
_MIN_DIGITS = 3  # fewer digits would match half the directory


@dataclass(frozen=True)
class Person:
    """One directory entry; phone numbers are RFC 3966 `tel:` URIs exactly as served."""

    name: str
    email: str
    title: str = ""
    department: str = ""
    office: str = ""
    """A room, not a number (the vendor samples use both; clients must not dial it)."""
    work: str | None = None
    mobile: str | None = None
    home: str | None = None
    other: str | None = None
    more_emails: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return "sip:" + self.email

    @property
    def emails(self) -> tuple[str, ...]:
        return (self.email, *self.more_emails)

    def phones(self) -> dict[str, str]:
        """Contact property name -> tel: URI, for the numbers this person lists."""
        values = (self.work, self.mobile, self.home, self.other)
        return {name: tel for name, tel in zip(PHONE_FIELDS, values, strict=True) if tel}


ENG, SALES, SUPPORT, FIN, OPS = (
    "Engineering",
    "Sales & Marketing",
    "Support",
    "Finance",
    "Operations",
)

# Names are chosen so that "car" finds several people (Carol twice, Caroline, Carla, Carlos, and
# Richard Carter by his second name) and "Carol" alone is ambiguous; numbers cover every tel:
# form a client must handle (global, extension, phone-context, visual separators, none at all).
DIRECTORY: tuple[Person, ...] = (
    Person(
        "Alice Wilson",
        "alice@contoso.com",
        "Program Manager",
        ENG,
        "18/2101",
        work="tel:+14255550123",
        mobile="tel:+14255550124",
    ),
    Person(
        "Bob Kelly",
        "bob@contoso.com",
        "Account Executive",
        SALES,
        "20/1104",
        work="tel:+14255550100",
        mobile="tel:+14255550150",
    ),
    Person(
        "Carol Diaz",
        "carol@contoso.com",
        "Engineer 2",
        ENG,
        "18/2107",
        work="tel:+1425554321;ext=54321",
        mobile="tel:4255551212;phone-context=defaultprofile",
    ),
    Person(
        "Carol Nguyen",
        "carol.nguyen@contoso.com",
        "Support Engineer",
        SUPPORT,
        "31/0112",
        mobile="tel:+14255550161",
    ),
    Person("Caroline Park", "caroline.park@contoso.com", "Designer", ENG, "18/2230"),
    Person(
        "Carla Rossi",
        "carla.rossi@contoso.com",
        "Financial Analyst",
        FIN,
        "40/3310",
        work="tel:+390212345678",
        other="tel:+393471234567",
    ),
    Person(
        "Carlos Gomez",
        "carlos.gomez@contoso.com",
        "Sales Lead",
        SALES,
        "20/1120",
        work="tel:+14255550170;ext=170",
        mobile="tel:+14255550103",
        other="tel:+34912345678",
    ),
    Person(
        "Richard Carter",
        "richard.carter@contoso.com",
        "Controller",
        FIN,
        "40/3302",
        work="tel:+14255550180",
    ),
    Person(
        "Dan Brooks",
        "dan.brooks@contoso.com",
        "Field Technician",
        OPS,
        "",
        mobile="tel:+14255550101",
    ),
    Person(
        "Eve Martin",
        "eve.martin@contoso.com",
        "Security Engineer",
        ENG,
        "18/2011",
        work="tel:+1-425-555-0190",
        mobile="tel:+1.425.555.0191",
        home="tel:+14255550192",
        other="tel:+14255550193",
    ),
    Person(
        "Frank Meyer",
        "frank.meyer@contoso.com",
        "Office Manager",
        OPS,
        "10/0001",
        work="tel:+4930123456789;ext=12",
    ),
    Person(
        "Grace Okafor",
        "grace.okafor@contoso.com",
        "Data Scientist",
        ENG,
        "18/2309",
        mobile="tel:+447700900123",
    ),
    Person(
        "Hannah Lee", "hannah.lee@contoso.com", "Recruiter", OPS, "10/0105", work="tel:+14255550102"
    ),
    Person("Ivan Petrov", "ivan.petrov@contoso.com", "Database Administrator", ENG, "18/2015"),
    Person(
        "José Álvarez",
        "jose.alvarez@contoso.com",
        "Support Lead",
        SUPPORT,
        "31/0101",
        work="tel:+14255550104",
        mobile="tel:+5215512345678",
    ),
    Person(
        "Julia Schmidt",
        "julia.schmidt@contoso.com",
        "Tax Specialist",
        FIN,
        "40/3201",
        work="tel:+4989123456",
        home="tel:+4989654321",
    ),
    Person(
        "Kenji Watanabe",
        "kenji.watanabe@contoso.com",
        "Solutions Architect",
        SALES,
        "20/1201",
        work="tel:+81312345678",
        mobile="tel:+819012345678",
    ),
    Person(
        "Laura Bianchi",
        "laura.bianchi@contoso.com",
        "Marketing Manager",
        SALES,
        "20/1210",
        mobile="tel:+14255550105",
    ),
    Person(
        "Mohammed Haddad",
        "mohammed.haddad@contoso.com",
        "Network Engineer",
        OPS,
        "12/0203",
        work="tel:+14255550106",
        other="tel:5550106;phone-context=+1425",
    ),
    Person(
        "Nina Kowalski",
        "nina.kowalski@contoso.com",
        "QA Engineer",
        ENG,
        "18/2120",
        work="tel:+48221234567",
    ),
    Person(
        "Oliver Smith",
        "oliver.smith@contoso.com",
        "Help Desk",
        SUPPORT,
        "31/0001",
        work="tel:+14255550107",
        more_emails=("helpdesk@contoso.com",),
    ),
    Person(
        "Priya Raman",
        "priya.raman@contoso.com",
        "Engineering Manager",
        ENG,
        "18/2401",
        work="tel:+14255550108;ext=108",
        mobile="tel:+919876543210",
    ),
    Person("Quentin Dubois", "quentin.dubois@contoso.com", "Legal Counsel", FIN, "40/3100"),
    Person(
        "Rosa Fernández",
        "rosa.fernandez@contoso.com",
        "Payroll",
        FIN,
        "40/3120",
        work="tel:+34911234567",
    ),
    Person(
        "Sara Davis",
        "sarad@contoso.com",
        "Product Manager",
        SALES,
        "20/2107",
        work="tel:+19185550107",
    ),
    Person(
        "Tom O'Brien",
        "tom.obrien@contoso.com",
        "Warehouse Lead",
        OPS,
        "",
        mobile="tel:+353871234567",
        home="tel:+35312345678",
    ),
    Person("Uma Shah", "uma.shah@contoso.com", "Intern", ENG, "18/2002"),
    Person(
        "Victor Chen",
        "victor.chen@contoso.com",
        "Sales Engineer",
        SALES,
        "20/1130",
        work="tel:+14255550109",
        mobile="tel:+8613812345678",
    ),
    Person(
        "Wendy Zhao",
        "wendy.zhao@contoso.com",
        "Accountant",
        FIN,
        "40/3303",
        work="tel:+14255550110",
    ),
    Person(
        "Xavier Laurent",
        "xavier.laurent@contoso.com",
        "Support Engineer",
        SUPPORT,
        "31/0120",
        other="tel:+33612345678",
    ),
    Person(
        "Yusuf Demir",
        "yusuf.demir@contoso.com",
        "Facilities",
        OPS,
        "10/0010",
        work="tel:+14255550111;ext=1",
    ),
    Person(
        "Zoë Müller",
        "zoe.mueller@contoso.com",
        "UX Researcher",
        ENG,
        "18/2240",
        mobile="tel:+41791234567",
    ),
    Person(
        "Front Desk", "frontdesk@contoso.com", "Reception", OPS, "10/0000", work="tel:+14255550199"
    ),
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for matching ("José" matches "jose")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def find(email: str, people: Iterable[Person] = DIRECTORY) -> Person | None:
    """The person with this e-mail address (any of theirs, any case), or None."""
    wanted = email.casefold()
    for person in people:
        if wanted in (e.casefold() for e in person.emails):
            return person
    return None


def _digits(tel: str) -> str:
    number = tel.split(":", 1)[-1].split(";", 1)[0]
    return _DIAL_SEPARATORS.sub("", number)


def _rank(person: Person, query: str, dialled: str | None) -> int | None:
    """0: name or e-mail starts with the query; 1: a later word of the name does; 2: the query
    occurs in the name, an e-mail address or the SIP URI; 3: the number's digits contain it."""
    name = fold(person.name)
    emails = [fold(e) for e in person.emails]
    if name.startswith(query) or any(e.startswith(query) for e in emails):
        return 0
    if any(word.startswith(query) for word in _WORD_SPLIT.split(name)[1:]):
        return 1
    if query in name or any(query in e for e in emails) or query in fold(person.uri):
        return 2
    if dialled and any(dialled in _digits(tel) for tel in person.phones().values()):
        return 3
    return None


def search(query: str, people: Iterable[Person] = DIRECTORY) -> list[Person]:
    """Everyone matching *query* (name, e-mail, URI or number), best matches first."""
    folded = fold(query.strip())
    if not folded:
        return []
    compact = _DIAL_SEPARATORS.sub("", folded)
    dialled = compact if compact.isdigit() and len(compact) >= _MIN_DIGITS else None
    ranked: list[tuple[int, str, str, Person]] = []
    for person in people:
        rank = _rank(person, folded, dialled)
        if rank is not None:
            ranked.append((rank, fold(person.name), person.email, person))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked]
