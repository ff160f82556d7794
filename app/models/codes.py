"""The controlled vocabularies (docs/architecture.md, "The controlled vocabularies"). Codes are
part of the API: append, never rename."""

from enum import StrEnum


class Behaviour(StrEnum):
    """Stalking behaviours: the charity's list and s.2A(3) Protection from Harassment Act 1997."""

    following = "following"
    contacting = "contacting"
    turning_up = "turning_up"
    loitering = "loitering"
    watching = "watching"
    monitoring = "monitoring"
    publishing = "publishing"
    gifts = "gifts"
    third_parties = "third_parties"
    property = "property"
    threats = "threats"
    order_breach = "order_breach"
    other = "other"


class Channel(StrEnum):
    phone_call = "phone_call"
    text_message = "text_message"
    messaging_app = "messaging_app"
    email = "email"
    social_media = "social_media"
    in_person = "in_person"
    letter_or_item = "letter_or_item"
    via_someone_else = "via_someone_else"
    other = "other"


class ImpactArea(StrEnum):
    fear_of_violence = "fear_of_violence"
    alarm_or_distress = "alarm_or_distress"
    sleep = "sleep"
    health = "health"
    work_or_study = "work_or_study"
    finances = "finances"
    home_security = "home_security"
    moved_home = "moved_home"
    changed_routine = "changed_routine"
    social_life = "social_life"
    family_or_children = "family_or_children"
    other = "other"


class ReportMethod(StrEnum):
    emergency_999 = "emergency_999"
    non_emergency_101 = "non_emergency_101"
    online = "online"
    in_person = "in_person"
    other = "other"


BEHAVIOUR_WORDS: dict[Behaviour, str] = {
    Behaviour.following: "Following",
    Behaviour.contacting: "Contacting",
    Behaviour.turning_up: "Turning up",
    Behaviour.loitering: "Loitering",
    Behaviour.watching: "Watching",
    Behaviour.monitoring: "Monitoring",
    Behaviour.publishing: "Publishing",
    Behaviour.gifts: "Gifts",
    Behaviour.third_parties: "Through other people",
    Behaviour.property: "Property",
    Behaviour.threats: "Threats",
    Behaviour.order_breach: "Order breach",
    Behaviour.other: "Other",
}
