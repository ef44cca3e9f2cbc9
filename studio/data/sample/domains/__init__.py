"""The eight domains of the bundled sample, in db_id order (db_id "1", the game, is the evaluation set)."""

from studio.data.sample.domains.airline import AIRLINE
from studio.data.sample.domains.bank import BANK
from studio.data.sample.domains.game import GAME
from studio.data.sample.domains.hr import HR
from studio.data.sample.domains.library import LIBRARY
from studio.data.sample.domains.movies import MOVIES
from studio.data.sample.domains.school import SCHOOL
from studio.data.sample.domains.shop import SHOP

DOMAINS = (GAME, SHOP, SCHOOL, LIBRARY, HR, MOVIES, AIRLINE, BANK)
