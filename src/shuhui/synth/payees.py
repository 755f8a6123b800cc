"""The accounts pensions are paid into, with one injected anomaly.

Every pensioner's pension goes to an account in their own name (a bank card, most often the
social-security card's financial account) unless the household arranges otherwise, as families
do: a couple's two pensions paid into one spouse's account, an old parent's into the account of
the son or daughter who looks after them. Those are normal and common, so "one account, several
recipients" alone proves nothing.

*Shared account*: a few accounts receive the pensions of several unrelated people — recipients
of different households — held by someone who is none of them (an agent collecting others'
pensions, the pattern audits find behind pensions drawn for the dead or the absent).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shuhui.standard import tables
from shuhui.standard.vocabularies import RELATIONS
from shuhui.synth import truth
from shuhui.synth.columns import (
    IntArray,
    anomaly_count,
    ascii_digits,
    batch,
    fixed_strings,
    pool,
    rows_weighted_index,
    take,
)
from shuhui.synth.context import Window, add_years
from shuhui.synth.households import Households
from shuhui.synth.pensions import Pensions
from shuhui.synth.population import People

# Banks that issue Qingdao's social-security cards and pay pensions, with the issuer prefix
# (BIN) their debit cards start with; rural households bank more with the rural and postal banks.
BANKS: tuple[tuple[str, str, float, float], ...] = (
    ("中国工商银行", "622202", 0.20, 0.08),
    ("中国农业银行", "622848", 0.12, 0.20),
    ("中国银行", "621661", 0.10, 0.04),
    ("中国建设银行", "621700", 0.14, 0.06),
    ("交通银行", "622260", 0.06, 0.02),
    ("中国邮政储蓄银行", "621799", 0.12, 0.22),
    ("青岛银行", "623170", 0.14, 0.06),
    ("青岛农商银行", "621262", 0.12, 0.32),
)
BANK_NAMES = pool([b[0] for b in BANKS])
_PREFIXES = np.array([[ord(c) for c in b[1]] for b in BANKS], dtype=np.uint8)
_BANK_CUM = np.cumsum(np.array([[b[2] for b in BANKS], [b[3] for b in BANKS]]), axis=1)

_COUPLE_SHARE = 0.3  # couples of pensioners paying both pensions into one account
_CARER_SHARE = 0.08  # pensioners 80+ paid into a younger household member's account
_AGENT_NUMBERS = 900_000_000_000  # account numbers of agents' accounts start here


@dataclass
class Payees:
    payee: pa.Array  # per pension row: account number
    bank: IntArray  # per pension row: index into BANKS
    accounts: pa.RecordBatch
    truth: pa.RecordBatch


def bank_of(rng: np.random.Generator, people: People) -> IntArray:
    """Each resident's bank, urban or rural in its habits."""
    return rows_weighted_index(rng, _BANK_CUM, people.rural.astype(np.int64))


def account_numbers(bank: IntArray, number: IntArray) -> pa.Array:
    """19-digit card numbers: the bank's 6-digit prefix, 12 digits, a Luhn check digit."""
    digits = np.concatenate([_PREFIXES[bank], ascii_digits(number, 12)], axis=1)
    values = (digits - ord("0")).astype(np.int64)[:, ::-1]
    doubled = values[:, 0::2] * 2
    total = (doubled // 10 + doubled % 10).sum(axis=1) + values[:, 1::2].sum(axis=1)
    check = ((10 - total % 10) % 10 + ord("0")).astype(np.uint8)
    return fixed_strings(np.concatenate([digits, check[:, None]], axis=1))


def assign(
    rng: np.random.Generator,
    people: People,
    homes: Households,
    pensions: Pensions,
    window: Window,
    *,
    shared_rate: float,
    at_least_one: bool,
) -> Payees:
    n = people.size
    banks = bank_of(rng, people)
    row_person = pensions.person
    # Whose account each person's pensions go into: their own, to begin with.
    holder = np.arange(n)
    pensioner = np.zeros(n, dtype=bool)
    pensioner[row_person] = True
    household = homes.member_of

    # Couples who both draw a pension: some have both paid into the head's account.
    head = homes.head[household]
    spouse = homes.relation == RELATIONS.index("配偶")
    pooled = (
        spouse & pensioner & pensioner[head] & (rng.random(homes.count) < _COUPLE_SHARE)[household]
    )
    holder[pooled] = head[pooled]

    # Old parents paid into the account of a working-age member who looks after them.
    carer_of_home = np.full(homes.count, -1)
    able = (people.age >= 25) & (people.age < 60) & ~pensioner & (people.death > window.as_of)
    carers = np.flatnonzero(able)
    carer_of_home[household[carers[::-1]]] = carers[::-1]  # the first such member
    cared = (
        pensioner
        & ~pooled
        & (people.age >= 80)
        & (carer_of_home[household] >= 0)
        & (rng.random(n) < _CARER_SHARE)
    )
    holder[cared] = carer_of_home[household[cared]]
    number = people.index[holder].astype(np.int64)

    # The anomaly: several living pensioners of different households, paid to one agent.
    keeps_others = np.zeros(n, dtype=bool)
    keeps_others[holder[pooled | cared]] = True
    living = pensioner & ~pooled & ~cared & ~keeps_others & (people.death > window.as_of)
    candidates = np.flatnonzero(living)
    _, one_each = np.unique(household[candidates], return_index=True)
    candidates = candidates[np.sort(one_each)]
    wanted = anomaly_count(rng, shared_rate, int(pensioner.sum()), at_least_one)
    sizes = rng.integers(3, 7, wanted)
    agents: list[int] = []
    victims: list[IntArray] = []
    taken = np.zeros(n, dtype=bool)
    for size in sizes:
        free = candidates[~taken[candidates]]
        if free.shape[0] < size:
            break
        group = np.sort(rng.choice(free, size=int(size), replace=False))
        outsiders = np.flatnonzero(
            (people.age >= 25) & (people.age < 70) & ~pensioner & ~taken
            & (people.death > window.as_of)
            & ~np.isin(household, household[group])
        )  # fmt: skip
        if outsiders.shape[0] == 0:
            break
        agent = int(outsiders[rng.integers(0, outsiders.shape[0])])
        taken[group] = True
        taken[agent] = True
        agents.append(agent)
        victims.append(group)
    agent_of = np.full(n, -1)
    for agent, group in zip(agents, victims, strict=True):
        agent_of[group] = agent
    redirected = agent_of >= 0
    holder[redirected] = agent_of[redirected]
    number[redirected] = _AGENT_NUMBERS + people.index[agent_of[redirected]]

    # Accounts: one per distinct (holder, number); the bank is the holder's.
    paid_to = number[row_person]
    owner = holder[row_person]
    keys, first_row = np.unique(paid_to, return_index=True)
    account_owner = owner[first_row]
    account_bank = banks[account_owner]
    is_agent = keys >= _AGENT_NUMBERS
    # Own accounts open some time before the first pension (a card issued on retirement, or
    # long held); carers' and agents' accounts any time in their adult life.
    earliest = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(earliest, owner, pensions.begins)
    adult = add_years(people.birth[account_owner], 18)
    own_opened = earliest[account_owner] - rng.integers(0, 3 * 365, keys.shape[0])
    other_opened = adult + (rng.random(keys.shape[0]) * (window.start - adult)).astype(np.int64)
    agent_opened = window.start - rng.integers(30, 3 * 365, keys.shape[0])
    is_own = np.isin(account_owner, row_person) & ~is_agent
    opened = np.where(is_agent, agent_opened, np.where(is_own, own_opened, other_opened))
    opened = np.clip(opened, adult, window.as_of)
    account_no = account_numbers(account_bank, keys)
    row_account = np.searchsorted(keys, paid_to)

    agent_keys = np.searchsorted(
        keys, _AGENT_NUMBERS + people.index[np.array(agents, dtype=np.int64)]
    )
    sizes_done = np.array([g.shape[0] for g in victims], dtype=np.int16)
    return Payees(
        payee=take(account_no, row_account),
        bank=account_bank[row_account],
        accounts=batch(
            tables.BENEFIT_ACCOUNTS,
            {
                "account_no": account_no,
                "bank": take(BANK_NAMES, account_bank),
                "holder_citizen_id": take(people.citizen_id, account_owner),
                "opened_on": opened,
            },
        ),
        truth=batch(
            truth.TRUTH_SHARED_ACCOUNT,
            {
                "account_no": take(account_no, agent_keys),
                "holder_citizen_id": take(people.citizen_id, np.array(agents, dtype=np.int64)),
                "citizen_count": sizes_done,
                "household_count": sizes_done,
            },
        ),
    )
