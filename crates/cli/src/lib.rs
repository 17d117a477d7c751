//! sesame_cli: the parts of the `sesame` command line that other front ends over the same
//! libraries share (the `sesame-hashtopolis` binary): the guess-source options and the plan
//! they make, so that every front end counts, numbers and tries the same guesses.

pub mod sources;
