mod rules;
mod select;
