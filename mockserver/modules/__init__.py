"""The API modules the mock simulates, listed once with static imports (a module that fails
to import stops the start). Each exports one `ApiModule` declaration (`API_MODULE`): its
name, contract tag, handlers, body limits, scenario checks, extra routes, start-up and
state; `platform.api_module.check_modules` refuses a list that disagrees with the contract.
"""

from __future__ import annotations

from ..platform.api_module import ApiModule
from .cvdeepmatch import API_MODULE as CVDEEPMATCH
from .cvdeepsearch import API_MODULE as CVDEEPSEARCH
from .interview import API_MODULE as INTERVIEW
from .speech import API_MODULE as SPEECH
from .universal import API_MODULE as UNIVERSAL

MODULES: tuple[ApiModule, ...] = (UNIVERSAL, SPEECH, CVDEEPMATCH, CVDEEPSEARCH, INTERVIEW)
