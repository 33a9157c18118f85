/**
 * circomlibjs, as the rest of zkml imports it: with blake-hash switched to its pure-JS
 * implementation first (./blake_hash_js.ts says why: its native addon corrupts the heap when
 * loaded in more than one thread). Import circomlibjs from here, never directly.
 */
import './blake_hash_js.js';

export { buildPoseidon, poseidonContract } from 'circomlibjs';
