/* tslint:disable */
/* eslint-disable */
export const memory: WebAssembly.Memory;
export function __wbg_validatebuilder_free(a: number): void;
export function validatebuilder_rules(a: number, b: number, c: number): number;
export function validatebuilder_data(a: number, b: number, c: number): number;
export function validatebuilder_showSummary(a: number, b: number, c: number): number;
export function validatebuilder_input_params(a: number, b: number, c: number): number;
export function validatebuilder_outputFormat(a: number, b: number): number;
export function validatebuilder_payload(a: number, b: number): number;
export function validatebuilder_alphabetical(a: number, b: number): number;
export function validatebuilder_last_modified(a: number, b: number): number;
export function validatebuilder_verbose(a: number, b: number): number;
export function validatebuilder_print_json(a: number, b: number): number;
export function validatebuilder_structured(a: number, b: number): number;
export function validatebuilder_new(): number;
export function validatebuilder_tryBuildAndExecute(a: number, b: number, c: number, d: number): void;
export function __wbindgen_malloc(a: number, b: number): number;
export function __wbindgen_realloc(a: number, b: number, c: number, d: number): number;
export function __wbindgen_add_to_stack_pointer(a: number): number;
export function __wbindgen_exn_store(a: number): void;
