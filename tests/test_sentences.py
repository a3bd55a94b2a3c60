from harness.text.sentences import split_sentences


def test_abbreviations_and_quotes_stay_in_one_sentence():
    text = ("Mr. Tokayev said U.S. forces were not involved. Eight officers died, the ministry said. "
            "“This is no longer a threat,” he added.")
    assert split_sentences(text) == [
        "Mr. Tokayev said U.S. forces were not involved.",
        "Eight officers died, the ministry said.",
        "“This is no longer a threat,” he added.",
    ]


def test_lines_and_list_markers():
    text = "- Russia sent troops\n\n* Eight officers died\n1. Protests spread.\n• Fuel prices rose"
    assert split_sentences(text) == ["Russia sent troops", "Eight officers died", "Protests spread.",
                                     "Fuel prices rose"]


def test_empty_text_has_no_sentences():
    assert split_sentences("") == []
    assert split_sentences(" \n\t\n") == []
