mod audit;
mod integrity;
mod signals;
mod tamper_corpus;
mod tamper_rules;
mod writers;
