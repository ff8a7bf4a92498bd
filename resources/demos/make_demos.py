"""Write Ceol's two demo data sets from the sentence patterns and word lists below.

Run `python resources/demos/make_demos.py` from the repository root to rewrite
nextword-longrange.txt, nextword-everyday.txt and sentiment.csv; the output is the same on
every run (a fixed seed picks which combinations are kept). Every pattern, word list and
everyday sentence here was written for Ceol; nothing is downloaded. See README.md beside it.
"""

from __future__ import annotations

import csv
import itertools
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

# -- next word: long-range facts decide the last word ------------------------------------------
COUNTRIES = {"France": "French", "Spain": "Spanish", "Germany": "German", "Italy": "Italian",
             "Portugal": "Portuguese", "Greece": "Greek", "Poland": "Polish", "Japan": "Japanese",
             "China": "Chinese", "Russia": "Russian", "Sweden": "Swedish", "Turkey": "Turkish",
             "Norway": "Norwegian", "Finland": "Finnish"}
CITIES = ["Boston", "London", "Sydney", "Toronto", "Chicago", "Dublin", "Auckland", "Denver",
          "Glasgow", "Seattle"]
LANGUAGE_PATTERNS = [
    "{country} is where I grew up, but I now live in {city}. I speak fluent {language}.",
    "I was born in {country} and moved to {city} when I was {age}. At home I still speak "
    "{language}.",
    "My grandmother comes from {country}, although she has lived in {city} for {years} years. "
    "She still dreams in {language}.",
    "Our new teacher spent her childhood in {country} before she took a job in {city}. She "
    "reads the news in {language}.",
]
AGES = ["six", "ten", "twelve", "twenty", "thirty"]
YEARS = ["five", "ten", "twenty", "forty", "fifty"]

WOMEN = ["Mary", "Anna", "Sarah", "Emma", "Nora", "Julia", "Grace", "Clare", "Maeve", "Laura"]
MEN = ["John", "Peter", "David", "Tom", "Sean", "Paul", "Mark", "Brian", "Colm", "Liam"]
PRONOUN_PATTERNS = [
    "{name} finished the long report at the office on {day}, and when the work was done the "
    "boss thanked {him}.",
    "{name} lost a blue umbrella on the bus to town last {day}, and a kind stranger gave it "
    "back to {him}.",
    "When {name} came home from the {place} after a very long day, the dog ran to the door to "
    "greet {him}.",
    "{name} told a funny story about the trip to the {place} last summer, and everyone at the "
    "table laughed with {him}.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
PLACES = ["market", "station", "hospital", "library", "factory", "farm"]

ANIMALS = {"dog": "bark", "cat": "meow", "duck": "quack", "cow": "moo", "owl": "hoot",
           "lion": "roar", "snake": "hiss", "horse": "neigh", "sheep": "bleat", "frog": "croak",
           "wolf": "howl", "pig": "oink"}
ANIMAL_PATTERNS = [
    "We keep an old {animal} in the {spot} behind the house, and whenever a stranger walks past "
    "it starts to {sound}.",
    "My neighbour has a {animal} that sleeps in the {spot} all day, but every evening at six it "
    "likes to {sound}.",
    "There was a {animal} in the {spot} at the end of the lane, and when the children came near "
    "it began to {sound}.",
]
SPOTS = ["yard", "garden", "barn", "shed", "field"]

# -- next word: everyday sentences --------------------------------------------------------------
EVERYDAY = """\
This morning I took my cat for a walk.
This morning I took my dog for a walk in the park.
I had toast and tea for breakfast.
We walked to the shop to buy some bread and milk.
It rained all day, so we stayed at home and read books.
My brother plays the fiddle in a band.
My sister plays the flute and the tin whistle.
The train to the city was late again today.
She made a cup of coffee and sat by the window.
He forgot his keys, so he waited outside until his wife came home.
The children played football in the garden after school.
We went to the beach on Sunday and swam in the sea.
I like to read a book before I go to sleep.
The shop on the corner sells fresh fish on Fridays.
Our teacher gave us a lot of homework this week.
After dinner we washed the dishes and watched a film.
The bus was full, so I walked to work.
I planted potatoes and onions in the garden.
The old man sat on the bench and fed the birds.
My friend sent me a letter from abroad.
We sang songs and played music until late at night.
The baby slept through the whole night for the first time.
I bought a new pair of shoes at the market.
The river was high after the storm.
We painted the kitchen yellow last summer.
He cooked pasta with tomatoes and cheese for dinner.
The library is closed on Mondays.
I called my mother on the phone this evening.
The wind blew the leaves off the trees.
She rode her bicycle to the village.
We had a picnic by the lake on Saturday.
The snow fell all night and the roads were white in the morning.
My father fixed the roof of the shed.
I learnt a new tune on the concertina today.
The cafe serves soup and sandwiches at lunchtime.
They danced a jig at the wedding.
The postman brought a parcel for my sister.
The sun came out in the afternoon and we went for a walk.
I cleaned my room and made the bed.
We caught the last bus home from the concert.
The farmer milked the cows early in the morning.
She wrote a long letter to her grandmother.
The shop was out of bread, so we made our own.
He ran for the train but missed it by a minute.
I drink a glass of water when I wake up.
The cat sat on the wall and watched the birds.
The dog slept by the fire all evening.
We took the ferry across the bay.
My aunt grows roses in her garden.
The kettle boiled and I made a pot of tea.
The teacher read a story to the class.
The fishermen came back with a boat full of fish.
I missed the start of the match because of the traffic.
They built a new bridge over the river.
We listened to the radio in the car.
The flowers in the park open in spring.
The students studied hard for the exam.
My uncle tells the best stories at Christmas.
The museum was full of old maps and coins.
I wore a warm coat because it was cold outside.
""".splitlines()
FACTS = ["People in {country} speak {language}.", "The language of {country} is {language}."]
SOUNDS = ["A {animal} can {sound}.", "I heard the {animal} {sound} in the night."]

# -- sentiment ---------------------------------------------------------------------------------
GOOD = ["good", "great", "lovely", "excellent", "wonderful", "fine", "delightful", "superb",
        "pleasant", "brilliant", "fantastic", "charming"]
BAD = ["bad", "awful", "terrible", "poor", "dreadful", "horrible", "boring", "rotten", "dull",
       "nasty", "weak", "miserable"]
THINGS = ["food", "film", "hotel", "service", "book", "concert", "coffee", "room", "show",
          "game", "meal", "trip", "music", "staff", "play", "session"]
# Each pattern with {a} good and {b} bad is positive; with the two swapped, the same words
# in another order mean the opposite.
SWAP_PATTERNS = [
    "The {thing} was {a}, not {b} at all.",
    "The {thing} was not {b}, it was {a}.",
    "I expected the {thing} to be {b}, but it was {a}.",
    "At first the {thing} seemed {b}, but in the end it was {a}.",
    "They said the {thing} would be {b}, yet it turned out {a}.",
    "Not {b} but {a}, that is how I would describe the {thing}.",
]
SIMPLE_GOOD = ["The {thing} was {a}.", "What a {a} {thing}!", "I really loved the {thing}.",
               "The {thing} was {a} and I would go again.", "The {thing} was not {b} at all.",
               "Honestly, the {thing} was {a}."]
SIMPLE_BAD = ["The {thing} was {b}.", "What a {b} {thing}!", "I really hated the {thing}.",
              "The {thing} was {b} and I would not go again.", "The {thing} was not {a} at all.",
              "Honestly, the {thing} was {b}."]


def _fill(rng: random.Random, pattern: str, **words: str) -> str:
    extra = {"age": rng.choice(AGES), "years": rng.choice(YEARS), "day": rng.choice(DAYS),
             "place": rng.choice(PLACES), "spot": rng.choice(SPOTS)}
    return pattern.format(**(extra | words))


def long_range(rng: random.Random) -> list[str]:
    """The long-range sentences: the last word follows from a fact far back in the sentence."""
    lines = []
    for pattern, (country, language), city in itertools.product(
            LANGUAGE_PATTERNS, COUNTRIES.items(), CITIES):
        lines.append(_fill(rng, pattern, country=country, language=language, city=city))
    for pattern, name in itertools.product(PRONOUN_PATTERNS, WOMEN + MEN):
        for _ in range(3):
            lines.append(_fill(rng, pattern, name=name, him="her" if name in WOMEN else "him"))
    for pattern, (animal, sound), spot in itertools.product(ANIMAL_PATTERNS, ANIMALS.items(),
                                                            SPOTS):
        lines.append(_fill(rng, pattern, animal=animal, sound=sound, spot=spot))
    return sorted(set(lines))


def everyday() -> list[str]:
    """Everyday sentences, plus short statements of the facts the long-range ones rely on."""
    lines = list(EVERYDAY)
    lines += [p.format(country=c, language=l) for p in FACTS for c, l in COUNTRIES.items()]
    lines += [p.format(animal=a, sound=s) for p in SOUNDS for a, s in ANIMALS.items()]
    return lines


def sentiment(rng: random.Random) -> list[tuple[str, int]]:
    """Labelled texts: order-swapped pairs (both members kept together) and simple ones."""
    rows = []
    combos = list(itertools.product(SWAP_PATTERNS, GOOD, BAD, THINGS))
    for pattern, good, bad, thing in rng.sample(combos, 520):
        rows.append((pattern.format(thing=thing, a=good, b=bad), 1))
        rows.append((pattern.format(thing=thing, a=bad, b=good), 0))
    for pattern, label in [(p, 1) for p in SIMPLE_GOOD] + [(p, 0) for p in SIMPLE_BAD]:
        for thing in THINGS:
            for _ in range(2):
                rows.append((pattern.format(thing=thing, a=rng.choice(GOOD), b=rng.choice(BAD)),
                             label))
    return sorted(set(rows))


def main() -> None:
    rng = random.Random(13)
    (HERE / "nextword-longrange.txt").write_text("\n".join(long_range(rng)) + "\n",
                                                 encoding="utf-8")
    (HERE / "nextword-everyday.txt").write_text("\n".join(everyday()) + "\n", encoding="utf-8")
    with open(HERE / "sentiment.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows(sentiment(rng))


if __name__ == "__main__":
    main()
